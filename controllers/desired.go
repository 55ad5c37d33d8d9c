package controllers

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"

	pipelinesv1alpha1 "github.com/resize-operator/resize-operator/api/v1alpha1"
	// The function's environment variable names are its contract with the
	// controller; taking them from the function's package keeps one spelling.
	"github.com/resize-operator/resize-operator/lambda/resize"
)

// Everything below is a pure function of the spec (and, where AWS assigns an
// identifier, of that identifier), so it is computed once per reconcile and
// table-tested without AWS.

const (
	// OwnerTagKey marks every AWS resource a pipeline created, with the value
	// <namespace>/<name>. It is the only record of ownership: a resource
	// without it, or with another pipeline's value, is never changed.
	OwnerTagKey = "resize.dev/owner"

	// Finalizer holds a ResizePipeline until its AWS resources are gone.
	Finalizer = "pipelines.resize.dev/finalizer"

	// FunctionRuntime and FunctionHandler: the bundle is a Go binary named
	// bootstrap on the OS-only runtime.
	FunctionRuntime = "provided.al2023"
	FunctionHandler = "bootstrap"

	// RequestModelName and RequestValidatorName name the API's request model
	// and validator; model names are alphanumeric.
	RequestModelName     = "ResizeRequest"
	RequestValidatorName = "ValidateBody"

	// apiHashVariable is the stage variable that holds the hash of the API
	// the stage serves, so the steady state decides "deployed?" from one
	// GetStage.
	apiHashVariable = "resizeApiHash"

	// maxRoleName is IAM's limit on role names.
	maxRoleName = 64
)

// Partition is an AWS partition: the ARN prefix and the DNS suffix of its
// endpoints.
type Partition struct {
	ID        string
	DNSSuffix string
}

// PartitionFor maps a region to its partition.
func PartitionFor(region string) Partition {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return Partition{"aws-cn", "amazonaws.com.cn"}
	case strings.HasPrefix(region, "us-gov-"):
		return Partition{"aws-us-gov", "amazonaws.com"}
	case strings.HasPrefix(region, "us-isob-"):
		return Partition{"aws-iso-b", "sc2s.sgov.gov"}
	case strings.HasPrefix(region, "us-iso-"):
		return Partition{"aws-iso", "c2s.ic.gov"}
	case strings.HasPrefix(region, "eu-isoe-"):
		return Partition{"aws-iso-e", "cloud.adc-e.uk"}
	}
	return Partition{"aws", "amazonaws.com"}
}

// RoleSpec is one IAM role of the pipeline.
type RoleSpec struct {
	Name        string
	Description string
	// Service is the principal allowed to assume the role.
	Service string
	// PolicyName is the name of the role's single inline policy.
	PolicyName string
}

// FunctionConfig is the Lambda configuration the controller owns. Fields
// that the controller does not set (VPC, layers, tracing) are left alone.
type FunctionConfig struct {
	Runtime      string
	Handler      string
	MemoryMB     int32
	Timeout      int32
	Architecture string
	RoleARN      string
	Environment  map[string]string
}

// Desired is the pipeline as the spec asks for it.
type Desired struct {
	Owner     string
	Region    string
	Partition Partition
	Tags      map[string]string

	SourceBucket      string
	DestinationBucket string

	FunctionRole     RoleSpec
	StateMachineRole RoleSpec
	APIRole          RoleSpec

	FunctionName     string
	MemoryMB         int32
	TimeoutSeconds   int32
	Architecture     string
	Environment      map[string]string
	StateMachineName string
	StateMachineType string
	APIName          string
	Stage            string
	Path             string
}

// ComputeDesired derives the desired state from a pipeline. region is the
// pipeline's region already resolved against the controller's default.
func ComputeDesired(rp *pipelinesv1alpha1.ResizePipeline, region string) Desired {
	s := rp.Spec
	owner := rp.Namespace + "/" + rp.Name
	d := Desired{
		Owner:             owner,
		Region:            region,
		Partition:         PartitionFor(region),
		Tags:              Tags(s.Tags, owner),
		SourceBucket:      s.SourceBucket.Name,
		DestinationBucket: s.DestinationBucket.Name,
		FunctionRole: RoleSpec{
			Name:        RoleName(rp.Namespace, rp.Name, "function"),
			Description: "ResizeImage function of ResizePipeline " + owner,
			Service:     "lambda.amazonaws.com",
			PolicyName:  "resize-function",
		},
		StateMachineRole: RoleSpec{
			Name:        RoleName(rp.Namespace, rp.Name, "statemachine"),
			Description: "State machine of ResizePipeline " + owner,
			Service:     "states.amazonaws.com",
			PolicyName:  "resize-statemachine",
		},
		APIRole: RoleSpec{
			Name:        RoleName(rp.Namespace, rp.Name, "apigateway"),
			Description: "REST API of ResizePipeline " + owner,
			Service:     "apigateway.amazonaws.com",
			PolicyName:  "resize-apigateway",
		},
		FunctionName:     orDefault(s.Function.Name, "ResizeImage"),
		MemoryMB:         orDefaultInt(s.Function.MemoryMB, 1024),
		TimeoutSeconds:   orDefaultInt(s.Function.TimeoutSeconds, 30),
		Architecture:     orDefault(string(s.Function.Architecture), string(pipelinesv1alpha1.ArchitectureX86_64)),
		Environment:      FunctionEnvironment(s.Thumbnail),
		StateMachineName: orDefault(s.StateMachine.Name, "ImageResizeWorkflow"),
		StateMachineType: orDefault(string(s.StateMachine.Type), string(pipelinesv1alpha1.StateMachineStandard)),
		APIName:          orDefault(s.API.Name, "ImageResizeAPI"),
		Stage:            orDefault(s.API.Stage, "prod"),
		Path:             orDefault(s.API.Path, "resize"),
	}
	return d
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func orDefaultInt(v, def int32) int32 {
	if v == 0 {
		return def
	}
	return v
}

// Tags are the user's tags plus the owner tag, which always wins.
func Tags(user map[string]string, owner string) map[string]string {
	t := make(map[string]string, len(user)+1)
	for k, v := range user {
		t[k] = v
	}
	t[OwnerTagKey] = owner
	return t
}

// RoleName is the deterministic name of one of a pipeline's roles:
// resize-<namespace>-<name>-<purpose>. Longer names are cut and end in a hash
// of the full name, so they stay unique and at most 64 characters. Being
// derived from the pipeline, a role created just before a crash is found
// again instead of duplicated.
func RoleName(namespace, name, purpose string) string {
	full := "resize-" + namespace + "-" + name + "-" + purpose
	if len(full) <= maxRoleName {
		return full
	}
	sum := sha256.Sum256([]byte(full))
	h := hex.EncodeToString(sum[:])[:10]
	// Keep the purpose readable at the end.
	keep := maxRoleName - len(h) - len(purpose) - 2
	return full[:keep] + "-" + h + "-" + purpose
}

// FunctionEnvironment is the function's environment: the thumbnail settings
// under the names lambda/resize reads.
func FunctionEnvironment(t pipelinesv1alpha1.ThumbnailSpec) map[string]string {
	prefix := "thumb-"
	if t.KeyPrefix != nil {
		prefix = *t.KeyPrefix
	}
	return map[string]string{
		resize.EnvMaxWidth:  strconv.Itoa(int(orDefaultInt(t.MaxWidth, 200))),
		resize.EnvMaxHeight: strconv.Itoa(int(orDefaultInt(t.MaxHeight, 200))),
		resize.EnvFit:       orDefault(string(t.Fit), string(pipelinesv1alpha1.FitInside)),
		resize.EnvFormat:    orDefault(string(t.Format), string(pipelinesv1alpha1.FormatSource)),
		resize.EnvQuality:   strconv.Itoa(int(orDefaultInt(t.Quality, 85))),
		resize.EnvKeyPrefix: prefix,
	}
}

// FunctionConfiguration is the configuration the function should have, once
// its role's ARN is known.
func (d Desired) FunctionConfiguration(roleARN string) FunctionConfig {
	return FunctionConfig{
		Runtime:      FunctionRuntime,
		Handler:      FunctionHandler,
		MemoryMB:     d.MemoryMB,
		Timeout:      d.TimeoutSeconds,
		Architecture: d.Architecture,
		RoleARN:      roleARN,
		Environment:  d.Environment,
	}
}

// Equal compares configurations the way Lambda stores them: no environment
// and an empty one are the same.
func (c FunctionConfig) Equal(o FunctionConfig) bool {
	if len(c.Environment) == 0 && len(o.Environment) == 0 {
		c.Environment, o.Environment = nil, nil
	}
	return reflect.DeepEqual(c, o)
}

// BucketARN is assembled because S3 never returns one.
func (d Desired) BucketARN(bucket string) string {
	return "arn:" + d.Partition.ID + ":s3:::" + bucket
}

// policyDocument is an IAM policy. Struct order keeps the JSON stable.
type policyDocument struct {
	Version   string            `json:"Version"`
	Statement []policyStatement `json:"Statement"`
}

type policyStatement struct {
	Sid       string            `json:"Sid,omitempty"`
	Effect    string            `json:"Effect"`
	Principal map[string]string `json:"Principal,omitempty"`
	Action    []string          `json:"Action"`
	Resource  []string          `json:"Resource,omitempty"`
}

func (p policyDocument) String() string {
	b, err := json.Marshal(p)
	if err != nil {
		panic(err) // plain strings only
	}
	return string(b)
}

// TrustPolicy lets one AWS service assume a role.
func TrustPolicy(service string) string {
	return policyDocument{
		Version: "2012-10-17",
		Statement: []policyStatement{{
			Effect:    "Allow",
			Principal: map[string]string{"Service": service},
			Action:    []string{"sts:AssumeRole"},
		}},
	}.String()
}

// FunctionPolicy lets the function read source objects, write destination
// objects and write its own logs; nothing else. account is the account of
// the function's role (Lambda's log group lives in the same account).
func (d Desired) FunctionPolicy(account string) string {
	p := d.Partition.ID
	logGroup := fmt.Sprintf("arn:%s:logs:%s:%s:log-group:/aws/lambda/%s", p, d.Region, account, d.FunctionName)
	return policyDocument{
		Version: "2012-10-17",
		Statement: []policyStatement{
			{Sid: "ReadSourceImages", Effect: "Allow", Action: []string{"s3:GetObject"},
				Resource: []string{d.BucketARN(d.SourceBucket) + "/*"}},
			{Sid: "WriteThumbnails", Effect: "Allow", Action: []string{"s3:PutObject"},
				Resource: []string{d.BucketARN(d.DestinationBucket) + "/*"}},
			{Sid: "CreateLogGroup", Effect: "Allow", Action: []string{"logs:CreateLogGroup"},
				Resource: []string{logGroup + ":*"}},
			{Sid: "WriteLogs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"},
				Resource: []string{logGroup + ":log-stream:*"}},
		},
	}.String()
}

// StateMachinePolicy lets the state machine invoke this function only, any
// version or alias of it included.
func StateMachinePolicy(functionARN string) string {
	return policyDocument{
		Version: "2012-10-17",
		Statement: []policyStatement{{
			Sid: "InvokeResizeFunction", Effect: "Allow", Action: []string{"lambda:InvokeFunction"},
			Resource: []string{functionARN, functionARN + ":*"},
		}},
	}.String()
}

// APIPolicy lets API Gateway start executions of this state machine only.
func APIPolicy(stateMachineARN string) string {
	return policyDocument{
		Version: "2012-10-17",
		Statement: []policyStatement{{
			Sid: "StartResizeWorkflow", Effect: "Allow", Action: []string{"states:StartExecution"},
			Resource: []string{stateMachineARN},
		}},
	}.String()
}

// AccountOf is the account field of an ARN.
func AccountOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

// LambdaTransientErrors are the Lambda errors the Task retries: the service's
// own failures and throttling, never the function's errors.
var LambdaTransientErrors = []string{
	"Lambda.ServiceException",
	"Lambda.AWSLambdaException",
	"Lambda.SdkClientException",
	"Lambda.TooManyRequestsException",
}

// FunctionStorageError is the error type the function reports when S3
// failed under it (lambda/resize.ReasonStorage); every other error type it
// reports is about the request or the image and would fail again.
const FunctionStorageError = "StorageError"

// Definition is the Amazon States Language of the workflow: ResizeImage →
// CheckResult → Success | Fail. Resource is the function ARN Lambda returned.
func Definition(functionARN string) string {
	def := map[string]any{
		"Comment": "Resize an image from the source bucket into the destination bucket.",
		"StartAt": "ResizeImage",
		"States": map[string]any{
			"ResizeImage": map[string]any{
				"Type":     "Task",
				"Resource": functionARN,
				"Retry": []any{
					map[string]any{
						"ErrorEquals":     LambdaTransientErrors,
						"IntervalSeconds": 2,
						"MaxAttempts":     6,
						"BackoffRate":     2,
					},
					// The function's one transient failure: S3 itself failed
					// while reading the source or writing the thumbnail.
					map[string]any{
						"ErrorEquals":     []string{FunctionStorageError},
						"IntervalSeconds": 1,
						"MaxAttempts":     2,
						"BackoffRate":     2,
					},
				},
				// A function error (a bad image, a missing key) ends the
				// execution through the Fail state, as a result that did not
				// report success does; the error and its message stay in
				// the execution history's TaskFailed event and in $.error.
				"Catch": []any{map[string]any{
					"ErrorEquals": []string{"States.ALL"},
					"ResultPath":  "$.error",
					"Next":        "Fail",
				}},
				"Next": "CheckResult",
			},
			"CheckResult": map[string]any{
				"Type": "Choice",
				"Choices": []any{map[string]any{
					"Variable":     "$.status",
					"StringEquals": "success",
					"Next":         "Success",
				}},
				"Default": "Fail",
			},
			"Success": map[string]any{"Type": "Succeed"},
			"Fail": map[string]any{
				"Type":  "Fail",
				"Error": "ResizeFailed",
				"Cause": "ResizeImage failed or did not report success; the execution history's ResizeImage events hold the function's error and message.",
			},
		},
	}
	b, err := json.MarshalIndent(def, "", "  ")
	if err != nil {
		panic(err)
	}
	return string(b)
}

// SameJSON compares two JSON documents semantically: key order, whitespace
// and one-element arrays versus scalars (as IAM may return them) do not count.
// Documents that do not parse are compared as text.
func SameJSON(a, b string) bool {
	var va, vb any
	if json.Unmarshal([]byte(a), &va) != nil || json.Unmarshal([]byte(b), &vb) != nil {
		return a == b
	}
	return reflect.DeepEqual(normalizeJSON(va), normalizeJSON(vb))
}

func normalizeJSON(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = normalizeJSON(e)
		}
		return t
	case []any:
		if len(t) == 1 {
			return normalizeJSON(t[0])
		}
		for i, e := range t {
			t[i] = normalizeJSON(e)
		}
		return t
	}
	return v
}

// DecodePolicy returns an IAM policy document as JSON: AWS returns them
// URL-encoded, some emulators as they were sent.
func DecodePolicy(doc string) string {
	if strings.HasPrefix(strings.TrimSpace(doc), "{") {
		return doc
	}
	if d, err := url.QueryUnescape(doc); err == nil {
		return d
	}
	return doc
}

// RequestModelSchema is the JSON schema (draft-04, the version API Gateway
// validates with) a POST body must satisfy.
const RequestModelSchema = `{
  "$schema": "http://json-schema.org/draft-04/schema#",
  "title": "ResizeRequest",
  "type": "object",
  "required": ["image_key", "source_bucket", "destination_bucket"],
  "properties": {
    "image_key": {"type": "string", "minLength": 1},
    "source_bucket": {"type": "string"},
    "destination_bucket": {"type": "string"}
  }
}`

// RequestTemplate is the mapping template that turns a POST body into a
// StartExecution request: the body becomes the execution input (a JSON
// string), the request id the execution name, so an execution is traceable
// to its request and a retried delivery of the same request cannot start a
// second execution.
//
// $util.escapeJavaScript escapes ' as \', which is not a JSON escape: an
// image key with an apostrophe would make StartExecution reject the input.
// The replaceAll turns \' back into ' (the regex \\' matches a backslash
// followed by a quote); every other escape it produces (\", \\, \n, \uXXXX,
// \/) is valid JSON.
func RequestTemplate(stateMachineARN string) string {
	return `{"stateMachineArn": "` + stateMachineARN + `", "name": "$context.requestId", ` +
		`"input": "$util.escapeJavaScript($input.json('$')).replaceAll("\\'", "'")"}`
}

// StatesIntegrationURI is the API Gateway action URI of StartExecution;
// AWS never returns it, so it is assembled for the partition.
func (d Desired) StatesIntegrationURI() string {
	return fmt.Sprintf("arn:%s:apigateway:%s:states:action/StartExecution", d.Partition.ID, d.Region)
}

// ResponseSpec is a method response with its integration response.
type ResponseSpec struct {
	StatusCode string
	// SelectionPattern matches the integration's HTTP status; "" is the default.
	SelectionPattern string
}

// Responses: 200 for a started execution, 400 and 500 mapped from the
// integration's status so the caller sees Step Functions' errors.
var Responses = []ResponseSpec{
	{StatusCode: "200"},
	{StatusCode: "400", SelectionPattern: `4\d{2}`},
	{StatusCode: "500", SelectionPattern: `5\d{2}`},
}

// APISpec is everything of the REST API that a deployment snapshots.
type APISpec struct {
	Path            string         `json:"path"`
	ModelName       string         `json:"modelName"`
	ModelSchema     string         `json:"modelSchema"`
	ValidatorName   string         `json:"validatorName"`
	IntegrationURI  string         `json:"integrationUri"`
	Credentials     string         `json:"credentials"`
	RequestTemplate string         `json:"requestTemplate"`
	Responses       []ResponseSpec `json:"responses"`
}

// DesiredAPI is the API that starts executions of stateMachineARN with the
// credentials of roleARN.
func (d Desired) DesiredAPI(stateMachineARN, roleARN string) APISpec {
	return APISpec{
		Path:            d.Path,
		ModelName:       RequestModelName,
		ModelSchema:     RequestModelSchema,
		ValidatorName:   RequestValidatorName,
		IntegrationURI:  d.StatesIntegrationURI(),
		Credentials:     roleARN,
		RequestTemplate: RequestTemplate(stateMachineARN),
		Responses:       Responses,
	}
}

// Hash identifies an API version; it is kept in a stage variable, so a new
// deployment is made only when the API changed.
func (a APISpec) Hash() string {
	b, err := json.Marshal(a)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:16]
}

// Endpoint is the invoke URL of the API: AWS's execute-api host, or, behind
// an endpoint override (a local AWS stack), its path form.
func (d Desired) Endpoint(restAPIID, endpointOverride string) string {
	if endpointOverride != "" {
		return strings.TrimRight(endpointOverride, "/") + "/restapis/" + restAPIID + "/" + d.Stage + "/_user_request_/" + d.Path
	}
	return fmt.Sprintf("https://%s.execute-api.%s.%s/%s/%s", restAPIID, d.Region, d.Partition.DNSSuffix, d.Stage, d.Path)
}

// missingTags returns the desired tags that actual lacks or holds with
// another value. Tags others added are left alone.
func missingTags(desired, actual map[string]string) map[string]string {
	var out map[string]string
	for k, v := range desired {
		if av, ok := actual[k]; !ok || av != v {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
