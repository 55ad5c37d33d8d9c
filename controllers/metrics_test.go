package controllers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	pipelinesv1alpha1 "github.com/resize-operator/resize-operator/api/v1alpha1"
)

// fakeAWS answers like Lambda and S3 do for a missing resource, with the
// request ID headers each service sends.
func fakeAWS(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/2015-03-31/functions/"):
			w.Header().Set("X-Amzn-Requestid", "lambda-req-1")
			w.Header().Set("X-Amzn-Errortype", "ResourceNotFoundException")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"Type":"User","Message":"Function not found: ResizeImage"}`))
		default: // S3 GetBucketTagging
			w.Header().Set("X-Amz-Request-Id", "s3-req-1")
			w.Header().Set("X-Amz-Id-2", "s3-host-1")
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func testAWSConfig(endpoint string, rec CallRecorder) aws.Config {
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint:     aws.String(endpoint),
		RetryMaxAttempts: 1,
		APIOptions:       []func(*middleware.Stack) error{RecordCalls(rec)},
	}
}

// TestMetricsCountAWSCalls drives real SDK clients through RecordCalls into
// the metrics and checks the series a dashboard would query.
func TestMetricsCountAWSCalls(t *testing.T) {
	srv := fakeAWS(t)
	m := NewMetrics(fake.NewClientBuilder().WithScheme(testScheme(t)).Build())
	reg := prometheus.NewPedanticRegistry()
	if err := m.Register(reg); err != nil {
		t.Fatal(err)
	}
	var seen []AWSCall
	cfg := testAWSConfig(srv.URL, CallRecorders{m, recorderFunc(func(c AWSCall) { seen = append(seen, c) })})
	ctx := WithPipeline(context.Background(), "media/demo")

	lc := lambda.NewFromConfig(cfg)
	for range 2 {
		_, err := lc.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("ResizeImage")})
		if !isCode(err, "ResourceNotFoundException") {
			t.Fatalf("GetFunction: %v", err)
		}
		if got := awsRequestID(err); got != "lambda-req-1" {
			t.Errorf("awsRequestID = %q, want lambda-req-1 (error %v)", got, err)
		}
	}
	sc := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	_, err := sc.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("image-uploads")})
	if !isCode(err, "NoSuchBucket") {
		t.Fatalf("GetBucketTagging: %v", err)
	}
	kv := awsErrorKeys(err)
	want := []any{"awsErrorCode", "NoSuchBucket", "awsRequestID", "s3-req-1", "awsHostID", "s3-host-1"}
	if len(kv) != len(want) {
		t.Fatalf("awsErrorKeys = %v, want %v", kv, want)
	}
	for i := range want {
		if kv[i] != want[i] {
			t.Fatalf("awsErrorKeys = %v, want %v", kv, want)
		}
	}

	if err := testutil.CollectAndCompare(m.calls, strings.NewReader(`
# HELP resize_aws_calls_total AWS API calls made by the controller, by service, operation and outcome (Success or the AWS error code); SDK retries count once.
# TYPE resize_aws_calls_total counter
resize_aws_calls_total{operation="GetBucketTagging",outcome="NoSuchBucket",service="S3"} 1
resize_aws_calls_total{operation="GetFunction",outcome="ResourceNotFoundException",service="Lambda"} 2
`), MetricAWSCalls); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m.duration, MetricAWSCallDuration); n != 2 {
		t.Errorf("%s has %d series, want 2 (one per service and operation)", MetricAWSCallDuration, n)
	}
	if len(seen) != 3 || seen[0].Pipeline != "media/demo" {
		t.Errorf("the second recorder saw %+v, want 3 calls of media/demo", seen)
	}
	// The whole registry must gather cleanly (the pedantic registry checks
	// that descriptions and samples agree).
	if _, err := reg.Gather(); err != nil {
		t.Errorf("gather: %v", err)
	}
}

// TestMetricsCountPipelinesByReady reads the gauge from a client holding
// pipelines in each Ready state.
func TestMetricsCountPipelinesByReady(t *testing.T) {
	pipeline := func(name string, ready metav1.ConditionStatus) *pipelinesv1alpha1.ResizePipeline {
		rp := &pipelinesv1alpha1.ResizePipeline{ObjectMeta: metav1.ObjectMeta{Namespace: "media", Name: name}}
		if ready != "" {
			rp.Status.Conditions = []metav1.Condition{{
				Type: pipelinesv1alpha1.ConditionReady, Status: ready, Reason: "Test", LastTransitionTime: metav1.Now(),
			}}
		}
		return rp
	}
	c := fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(
		pipeline("a", metav1.ConditionTrue), pipeline("b", metav1.ConditionTrue),
		pipeline("c", metav1.ConditionFalse), pipeline("d", ""),
	).Build()
	m := NewMetrics(c)
	if err := testutil.CollectAndCompare(m.pipelines, strings.NewReader(`
# HELP resize_pipelines ResizePipelines by the status of their Ready condition (Unknown when it is not set yet).
# TYPE resize_pipelines gauge
resize_pipelines{ready="False"} 1
resize_pipelines{ready="True"} 2
resize_pipelines{ready="Unknown"} 1
`)); err != nil {
		t.Error(err)
	}
}

type recorderFunc func(AWSCall)

func (f recorderFunc) RecordAWSCall(_ context.Context, c AWSCall) { f(c) }

func testScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := pipelinesv1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}
