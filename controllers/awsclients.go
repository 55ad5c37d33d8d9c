package controllers

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// AWSCall is one AWS API operation as the SDK saw it, retries included.
type AWSCall struct {
	Service   string // the SDK's service ID, e.g. "S3", "Lambda"
	Operation string // e.g. "CreateBucket"
	Region    string
	// Pipeline is the <namespace>/<name> of the ResizePipeline being
	// reconciled, "" outside a reconcile.
	Pipeline string
	// Outcome is "Success" or the AWS error code (e.g. "NoSuchBucket").
	Outcome  string
	Duration time.Duration
}

// CallRecorder receives every AWS call the controller makes. The integration
// tests count calls through it; metrics plug in the same way.
type CallRecorder interface {
	RecordAWSCall(ctx context.Context, call AWSCall)
}

// AWSClients are the narrow views of the SDK clients that the phases use. The
// SDK clients satisfy them; tests wrap them to inject faults the local AWS
// stack cannot produce.
type AWSClients struct {
	S3         BucketAPI
	IAM        RoleAPI
	Lambda     FunctionAPI
	SFN        StateMachineAPI
	APIGateway RestAPIAPI
}

// ClientSource gives the AWS clients for a region.
type ClientSource interface {
	ClientsFor(region string) *AWSClients
}

// AWSOptions configures the client factory.
type AWSOptions struct {
	// Region is the default region, used when a pipeline names none.
	Region string
	// EndpointURL, when set, sends every call there (a local AWS stack); S3
	// then uses path-style addressing, since bucket subdomains of 127.0.0.1
	// do not resolve.
	EndpointURL string
	// Recorder, when set, sees every call.
	Recorder CallRecorder
}

// ClientFactory builds SDK clients from one aws.Config (default credential
// chain: environment, IRSA, Pod Identity, instance role) and caches them per
// region.
type ClientFactory struct {
	base     aws.Config
	endpoint string

	mu      sync.Mutex
	clients map[string]*AWSClients
}

// NewClientFactory loads the default AWS configuration.
func NewClientFactory(ctx context.Context, opts AWSOptions) (*ClientFactory, error) {
	var loadOpts []func(*config.LoadOptions) error
	if opts.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(opts.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	if opts.EndpointURL != "" {
		cfg.BaseEndpoint = aws.String(opts.EndpointURL)
	}
	if opts.Recorder != nil {
		cfg.APIOptions = append(cfg.APIOptions, RecordCalls(opts.Recorder))
	}
	return &ClientFactory{base: cfg, endpoint: opts.EndpointURL, clients: map[string]*AWSClients{}}, nil
}

// DefaultRegion is the region of the loaded configuration.
func (f *ClientFactory) DefaultRegion() string { return f.base.Region }

// EndpointURL is the endpoint override, empty for real AWS.
func (f *ClientFactory) EndpointURL() string { return f.endpoint }

// ClientsFor returns the clients for a region, building them once.
func (f *ClientFactory) ClientsFor(region string) *AWSClients {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.clients[region]; ok {
		return c
	}
	cfg := f.base.Copy()
	cfg.Region = region
	c := &AWSClients{
		S3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.UsePathStyle = f.endpoint != ""
		}),
		IAM:        iam.NewFromConfig(cfg),
		Lambda:     lambda.NewFromConfig(cfg),
		SFN:        sfn.NewFromConfig(cfg),
		APIGateway: apigateway.NewFromConfig(cfg),
	}
	f.clients[region] = c
	return c
}

// RecordCalls returns an API option that reports every operation to rec:
// service, operation, outcome and latency, SDK retries included.
func RecordCalls(rec CallRecorder) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		// After the service metadata middleware, so the context names the
		// service and the operation.
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("ResizeRecordAWSCall",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				start := time.Now()
				out, md, err := next.HandleInitialize(ctx, in)
				rec.RecordAWSCall(ctx, AWSCall{
					Service:   awsmiddleware.GetServiceID(ctx),
					Operation: awsmiddleware.GetOperationName(ctx),
					Region:    awsmiddleware.GetRegion(ctx),
					Pipeline:  PipelineFromContext(ctx),
					Outcome:   outcome(err),
					Duration:  time.Since(start),
				})
				return out, md, err
			}), middleware.After)
	}
}

type pipelineKey struct{}

// WithPipeline marks ctx as reconciling the pipeline <namespace>/<name>, so
// the AWS calls made with it are attributed to that pipeline.
func WithPipeline(ctx context.Context, pipeline string) context.Context {
	return context.WithValue(ctx, pipelineKey{}, pipeline)
}

// PipelineFromContext is the pipeline WithPipeline recorded, or "".
func PipelineFromContext(ctx context.Context) string {
	s, _ := ctx.Value(pipelineKey{}).(string)
	return s
}

func outcome(err error) string {
	if err == nil {
		return "Success"
	}
	if code := errorCode(err); code != "" {
		return code
	}
	return "Error"
}

// errorCode is the AWS error code of err, or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errorAs(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
