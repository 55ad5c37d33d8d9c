// Package e2e runs the README's user story against the real programs: the
// local AWS stack, a Kubernetes API server and the controller, driven with
// kubectl and an HTTP client as a user would, with every claim read back
// from AWS through the SDK.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
)

const (
	sample            = "../../config/samples/pipelines_v1alpha1_resizepipeline.yaml"
	sourceBucket      = "image-uploads-oanh"
	destinationBucket = "image-resized-oanh"
)

var theStack *stack

func TestMain(m *testing.M) {
	ctx := context.Background()
	s, err := startStack(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: starting the stack:", err)
		if s != nil {
			s.stop(true)
		}
		os.Exit(1)
	}
	theStack = s
	code := m.Run()
	s.stop(code != 0)
	os.Exit(code)
}

type clients struct {
	s3     *s3.Client
	sfn    *sfn.Client
	lambda *lambda.Client
	iam    *iam.Client
	apigw  *apigateway.Client
}

func newClients(t *testing.T) clients {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")),
		config.WithBaseEndpoint(awsEndpoint))
	if err != nil {
		t.Fatal(err)
	}
	return clients{
		s3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.UsePathStyle = true
			o.DisableLogOutputChecksumValidationSkipped = true
		}),
		sfn:    sfn.NewFromConfig(cfg),
		lambda: lambda.NewFromConfig(cfg),
		iam:    iam.NewFromConfig(cfg),
		apigw:  apigateway.NewFromConfig(cfg),
	}
}

// photo returns a real photograph from Debian's mate-backgrounds, which
// hack/install-test-deps.sh installs.
func photo(t *testing.T) []byte {
	t.Helper()
	paths, _ := filepath.Glob("/usr/share/backgrounds/mate/*/*.jpg")
	if len(paths) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("no photographs in /usr/share/backgrounds/mate: hack/install-test-deps.sh installs them")
		}
		t.Skip("no photographs in /usr/share/backgrounds/mate; run hack/install-test-deps.sh")
	}
	slices.Sort(paths)
	data, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestUserStory is the README, step by step. The steps share one pipeline,
// so they run in order and stop at the first failure.
func TestUserStory(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	c := newClients(t)
	s := theStack
	img := photo(t)
	srcW, srcH := dimensions(t, img)
	defer func() {
		if t.Failed() {
			t.Logf("controller log:\n%s", s.log("manager"))
		}
	}()

	var endpoint string
	var resources map[string]string
	step(t, "apply the sample and wait for Ready", func(t *testing.T) {
		start := time.Now()
		must(t)(s.kubectl(ctx, "apply", "-f", sample))
		must(t)(s.kubectl(ctx, "wait", "--for=condition=Ready", "resizepipeline/demo", "--timeout=180s"))
		t.Logf("apply to Ready: %v", time.Since(start).Round(time.Millisecond))
		endpoint = strings.TrimSpace(must(t)(s.kubectl(ctx, "get", "resizepipeline", "demo", "-o", "jsonpath={.status.endpoint}")))
		if !strings.HasPrefix(endpoint, awsEndpoint+"/restapis/") || !strings.HasSuffix(endpoint, "/prod/_user_request_/resize") {
			t.Fatalf("status.endpoint = %q, want the local invoke URL of stage prod, path resize", endpoint)
		}
		raw := must(t)(s.kubectl(ctx, "get", "resizepipeline", "demo", "-o", "jsonpath={.status.resources}"))
		if err := json.Unmarshal([]byte(raw), &resources); err != nil {
			t.Fatalf("status.resources %q: %v", raw, err)
		}
		out := must(t)(s.kubectl(ctx, "get", "resizepipelines"))
		if !strings.Contains(out, "demo") || !strings.Contains(out, "True") || !strings.Contains(out, endpoint) {
			t.Errorf("kubectl get resizepipelines shows no READY True and ENDPOINT:\n%s", out)
		}
	})

	step(t, "POST an image key and get a thumbnail", func(t *testing.T) {
		put(ctx, t, c, "test.jpg", img)
		out := startExecution(ctx, t, c, endpoint, "test.jpg")
		if out.Status != sfntypes.ExecutionStatusSucceeded {
			t.Fatalf("execution %s, want SUCCEEDED (error %q, cause %q)", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
		}
		var result map[string]string
		if err := json.Unmarshal([]byte(aws.ToString(out.Output)), &result); err != nil {
			t.Fatalf("execution output %q: %v", aws.ToString(out.Output), err)
		}
		if want := map[string]string{"status": "success", "thumb_key": "thumb-test.jpg"}; !mapsEqual(result, want) {
			t.Errorf("execution output = %v, want %v", result, want)
		}
		w, h := dimensions(t, get(ctx, t, c, destinationBucket, "thumb-test.jpg"))
		checkFits(t, w, h, srcW, srcH, 200, 200)
	})

	step(t, "bad requests fail cleanly and write nothing", func(t *testing.T) {
		put(ctx, t, c, "not-an-image.jpg", []byte("this is a text file, not a JPEG"))
		before := keys(ctx, t, c, destinationBucket)
		for _, key := range []string{"missing.jpg", "not-an-image.jpg"} {
			out := startExecution(ctx, t, c, endpoint, key)
			// The workflow's own Fail state names the error; a failure
			// that skipped it would carry the function's error type.
			if out.Status != sfntypes.ExecutionStatusFailed || aws.ToString(out.Error) != "ResizeFailed" {
				t.Errorf("%s: execution %s with error %q, want FAILED through the Fail state (ResizeFailed)", key, out.Status, aws.ToString(out.Error))
			}
		}
		resp := post(t, endpoint, `{"source_bucket":"`+sourceBucket+`"}`)
		if resp.status != http.StatusBadRequest {
			t.Errorf("POST without image_key: %d %s, want 400", resp.status, resp.body)
		}
		if after := keys(ctx, t, c, destinationBucket); !slices.Equal(before, after) {
			t.Errorf("destination changed by failed requests: %v -> %v", before, after)
		}
	})

	step(t, "a spec change reaches the function", func(t *testing.T) {
		must(t)(s.kubectl(ctx, "patch", "resizepipeline", "demo", "--type", "merge", "-p", `{"spec":{"thumbnail":{"maxWidth":128}}}`))
		waitObserved(ctx, t, s)
		put(ctx, t, c, "narrow.jpg", img)
		if out := startExecution(ctx, t, c, endpoint, "narrow.jpg"); out.Status != sfntypes.ExecutionStatusSucceeded {
			t.Fatalf("execution %s (%s)", out.Status, aws.ToString(out.Cause))
		}
		w, h := dimensions(t, get(ctx, t, c, destinationBucket, "thumb-narrow.jpg"))
		checkFits(t, w, h, srcW, srcH, 128, 200)
	})

	step(t, "POST-to-thumbnail latency", func(t *testing.T) {
		var took []time.Duration
		for i := range 20 {
			key := fmt.Sprintf("latency-%02d.jpg", i)
			put(ctx, t, c, key, img)
			start := time.Now()
			if resp := post(t, endpoint, payload(key)); resp.status != http.StatusOK {
				t.Fatalf("POST: %d %s", resp.status, resp.body)
			}
			waitObject(ctx, t, c, destinationBucket, "thumb-"+key)
			took = append(took, time.Since(start))
		}
		slices.Sort(took)
		t.Logf("POST-to-thumbnail latency over %d requests: median %v, min %v, max %v",
			len(took), took[len(took)/2].Round(time.Millisecond), took[0].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond))
	})

	step(t, "delete the pipeline: its resources go, the data stays", func(t *testing.T) {
		must(t)(s.kubectl(ctx, "delete", "resizepipeline", "demo", "--timeout=180s"))
		if _, err := c.lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("ResizeImage")}); !isNotFound(err) {
			t.Errorf("function still there after delete: %v", err)
		}
		if arn := resources["stateMachineARN"]; arn == "" {
			t.Error("status had no stateMachineARN")
		} else if _, err := c.sfn.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: &arn}); !isNotFound(err) {
			t.Errorf("state machine still there after delete: %v", err)
		}
		if id := resources["restAPIID"]; id == "" {
			t.Error("status had no restAPIID")
		} else if _, err := c.apigw.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: &id}); !isNotFound(err) {
			t.Errorf("REST API still there after delete: %v", err)
		}
		for _, field := range []string{"functionRoleARN", "stateMachineRoleARN", "apiRoleARN"} {
			arn := resources[field]
			name := arn[strings.LastIndex(arn, "/")+1:]
			if name == "" {
				t.Errorf("status had no %s", field)
				continue
			}
			if _, err := c.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: &name}); !isNotFound(err) {
				t.Errorf("role %s still there after delete: %v", name, err)
			}
		}
		if got := keys(ctx, t, c, sourceBucket); !slices.Contains(got, "test.jpg") {
			t.Errorf("source bucket lost its images: %v", got)
		}
		if got := keys(ctx, t, c, destinationBucket); !slices.Contains(got, "thumb-test.jpg") {
			t.Errorf("destination bucket lost its thumbnails: %v", got)
		}
		events := must(t)(s.kubectl(ctx, "get", "events", "--field-selector", "involvedObject.name=demo", "-o", "jsonpath={.items[*].message}"))
		if !strings.Contains(events, sourceBucket) {
			t.Errorf("no Event tells that bucket %s was kept; events: %s", sourceBucket, events)
		}
	})
}

// step runs one step of the story and ends the story when it fails.
func step(t *testing.T, name string, f func(t *testing.T)) {
	t.Helper()
	if !t.Run(name, f) {
		t.FailNow()
	}
}

func must(t *testing.T) func(string, error) string {
	return func(out string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
}

func payload(key string) string {
	return fmt.Sprintf(`{"image_key":%q,"source_bucket":%q,"destination_bucket":%q}`, key, sourceBucket, destinationBucket)
}

type response struct {
	status int
	body   string
}

func post(t *testing.T, url, body string) response {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }() // read in full below
	data, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, string(data)}
}

// startExecution POSTs the seed payload for key, checks API Gateway's answer
// and waits for the execution it started to end.
func startExecution(ctx context.Context, t *testing.T, c clients, endpoint, key string) *sfn.DescribeExecutionOutput {
	t.Helper()
	resp := post(t, endpoint, payload(key))
	if resp.status != http.StatusOK {
		t.Fatalf("POST %s: %d %s, want 200", endpoint, resp.status, resp.body)
	}
	var started struct {
		ExecutionArn string  `json:"executionArn"`
		StartDate    float64 `json:"startDate"`
	}
	if err := json.Unmarshal([]byte(resp.body), &started); err != nil || started.ExecutionArn == "" || started.StartDate == 0 {
		t.Fatalf("POST answered %s: want executionArn and startDate (%v)", resp.body, err)
	}
	for {
		out, err := c.sfn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: &started.ExecutionArn})
		if err != nil {
			t.Fatal(err)
		}
		if out.Status != sfntypes.ExecutionStatusRunning {
			return out
		}
		sleep(ctx, t, 20*time.Millisecond)
	}
}

func waitObserved(ctx context.Context, t *testing.T, s *stack) {
	t.Helper()
	for {
		out := must(t)(s.kubectl(ctx, "get", "resizepipeline", "demo", "-o",
			`jsonpath={.metadata.generation} {.status.observedGeneration} {.status.conditions[?(@.type=="Ready")].status}`))
		f := strings.Fields(out)
		if len(f) == 3 && f[0] == f[1] && f[2] == "True" {
			return
		}
		sleep(ctx, t, 100*time.Millisecond)
	}
}

func waitObject(ctx context.Context, t *testing.T, c clients, bucket, key string) {
	t.Helper()
	for {
		_, err := c.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
		if err == nil {
			return
		}
		if !isNotFound(err) {
			t.Fatal(err)
		}
		sleep(ctx, t, 5*time.Millisecond)
	}
}

func sleep(ctx context.Context, t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-ctx.Done():
		t.Fatal("timed out")
	case <-time.After(d):
	}
}

func put(ctx context.Context, t *testing.T, c clients, key string, data []byte) {
	t.Helper()
	if _, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(sourceBucket), Key: &key, Body: bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
}

func get(ctx context.Context, t *testing.T, c clients, bucket, key string) []byte {
	t.Helper()
	out, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatalf("s3://%s/%s: %v", bucket, key, err)
	}
	defer func() { _ = out.Body.Close() }() // read in full below; ReadAll reports failures
	data, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func keys(ctx context.Context, t *testing.T, c clients, bucket string) []string {
	t.Helper()
	out, err := c.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	var ks []string
	for _, o := range out.Contents {
		ks = append(ks, aws.ToString(o.Key))
	}
	slices.Sort(ks)
	return ks
}

func dimensions(t *testing.T, data []byte) (int, int) {
	t.Helper()
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not an image: %v", err)
	}
	return cfg.Width, cfg.Height
}

// checkFits checks a thumbnail fits the box, touches it on one side and keeps
// the source's aspect ratio to within rounding.
func checkFits(t *testing.T, w, h, srcW, srcH, boxW, boxH int) {
	t.Helper()
	if w > boxW || h > boxH || (w != boxW && h != boxH) {
		t.Errorf("thumbnail %dx%d does not fit the %dx%d box snugly", w, h, boxW, boxH)
	}
	if diff := float64(w)/float64(h) - float64(srcW)/float64(srcH); diff > 0.02 || diff < -0.02 {
		t.Errorf("thumbnail %dx%d lost the aspect ratio of the %dx%d source", w, h, srcW, srcH)
	}
}

func isNotFound(err error) bool {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return false
	}
	switch api.ErrorCode() {
	case "NotFound", "NoSuchKey", "NoSuchEntity", "NotFoundException", "ResourceNotFoundException", "StateMachineDoesNotExist":
		return true
	}
	return false
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
