package controllers

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	pipelinesv1alpha1 "github.com/resize-operator/resize-operator/api/v1alpha1"
)

func pipeline(mutate ...func(*pipelinesv1alpha1.ResizePipeline)) *pipelinesv1alpha1.ResizePipeline {
	rp := &pipelinesv1alpha1.ResizePipeline{
		ObjectMeta: metav1.ObjectMeta{Namespace: "media", Name: "demo"},
		Spec: pipelinesv1alpha1.ResizePipelineSpec{
			SourceBucket:      pipelinesv1alpha1.BucketSpec{Name: "image-uploads"},
			DestinationBucket: pipelinesv1alpha1.BucketSpec{Name: "image-resized"},
		},
	}
	for _, m := range mutate {
		m(rp)
	}
	return rp
}

func TestComputeDesiredDefaults(t *testing.T) {
	got := ComputeDesired(pipeline(), "ca-central-1")
	want := Desired{
		Owner:             "media/demo",
		Region:            "ca-central-1",
		Partition:         Partition{"aws", "amazonaws.com"},
		Tags:              map[string]string{OwnerTagKey: "media/demo"},
		SourceBucket:      "image-uploads",
		DestinationBucket: "image-resized",
		FunctionRole: RoleSpec{Name: "resize-media-demo-function", Description: "ResizeImage function of ResizePipeline media/demo",
			Service: "lambda.amazonaws.com", PolicyName: "resize-function"},
		StateMachineRole: RoleSpec{Name: "resize-media-demo-statemachine", Description: "State machine of ResizePipeline media/demo",
			Service: "states.amazonaws.com", PolicyName: "resize-statemachine"},
		APIRole: RoleSpec{Name: "resize-media-demo-apigateway", Description: "REST API of ResizePipeline media/demo",
			Service: "apigateway.amazonaws.com", PolicyName: "resize-apigateway"},
		FunctionName:   "ResizeImage",
		MemoryMB:       1024,
		TimeoutSeconds: 30,
		Architecture:   "x86_64",
		Environment: map[string]string{
			"THUMB_MAX_WIDTH": "200", "THUMB_MAX_HEIGHT": "200", "THUMB_FIT": "Inside",
			"THUMB_FORMAT": "Source", "THUMB_QUALITY": "85", "THUMB_KEY_PREFIX": "thumb-",
		},
		StateMachineName: "ImageResizeWorkflow",
		StateMachineType: "STANDARD",
		APIName:          "ImageResizeAPI",
		Stage:            "prod",
		Path:             "resize",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ComputeDesired (-want +got):\n%s", diff)
	}
}

func TestFunctionEnvironment(t *testing.T) {
	cases := map[string]struct {
		spec pipelinesv1alpha1.ThumbnailSpec
		want map[string]string
	}{
		"defaults": {
			spec: pipelinesv1alpha1.ThumbnailSpec{},
			want: map[string]string{"THUMB_MAX_WIDTH": "200", "THUMB_MAX_HEIGHT": "200", "THUMB_FIT": "Inside",
				"THUMB_FORMAT": "Source", "THUMB_QUALITY": "85", "THUMB_KEY_PREFIX": "thumb-"},
		},
		"everything set": {
			spec: pipelinesv1alpha1.ThumbnailSpec{MaxWidth: 640, MaxHeight: 480, Fit: pipelinesv1alpha1.FitCover,
				Format: pipelinesv1alpha1.FormatPNG, Quality: 70, KeyPrefix: ptr.To("thumbs/")},
			want: map[string]string{"THUMB_MAX_WIDTH": "640", "THUMB_MAX_HEIGHT": "480", "THUMB_FIT": "Cover",
				"THUMB_FORMAT": "PNG", "THUMB_QUALITY": "70", "THUMB_KEY_PREFIX": "thumbs/"},
		},
		"empty prefix is kept, not defaulted": {
			spec: pipelinesv1alpha1.ThumbnailSpec{KeyPrefix: ptr.To("")},
			want: map[string]string{"THUMB_MAX_WIDTH": "200", "THUMB_MAX_HEIGHT": "200", "THUMB_FIT": "Inside",
				"THUMB_FORMAT": "Source", "THUMB_QUALITY": "85", "THUMB_KEY_PREFIX": ""},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, FunctionEnvironment(tc.spec)); diff != "" {
				t.Errorf("FunctionEnvironment (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTags(t *testing.T) {
	cases := map[string]struct {
		user map[string]string
		want map[string]string
	}{
		"none":                  {nil, map[string]string{OwnerTagKey: "ns/p"}},
		"user tags kept":        {map[string]string{"team": "media"}, map[string]string{"team": "media", OwnerTagKey: "ns/p"}},
		"owner tag always ours": {map[string]string{OwnerTagKey: "x/y"}, map[string]string{OwnerTagKey: "ns/p"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Tags(tc.user, "ns/p")); diff != "" {
				t.Errorf("Tags (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRoleName(t *testing.T) {
	long := strings.Repeat("n", 63)
	cases := map[string]struct {
		namespace, name, purpose string
		want                     string
	}{
		"short":          {"media", "demo", "function", "resize-media-demo-function"},
		"long is hashed": {"media", long, "statemachine", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := RoleName(tc.namespace, tc.name, tc.purpose)
			if len(got) > 64 {
				t.Fatalf("RoleName = %q, %d characters; IAM allows 64", got, len(got))
			}
			if tc.want != "" {
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("RoleName (-want +got):\n%s", diff)
				}
				return
			}
			if !strings.HasSuffix(got, "-"+tc.purpose) || !strings.HasPrefix(got, "resize-"+tc.namespace+"-") {
				t.Errorf("RoleName = %q; want resize-<namespace>-…-<purpose>", got)
			}
			if again := RoleName(tc.namespace, tc.name, tc.purpose); again != got {
				t.Errorf("RoleName is not deterministic: %q then %q", got, again)
			}
			if other := RoleName(tc.namespace, tc.name+"x", tc.purpose); other == got {
				t.Errorf("RoleName gives %q for two different pipelines", got)
			}
		})
	}
}

func TestPartitionAndEndpoint(t *testing.T) {
	cases := map[string]struct {
		region, override string
		wantPartition    string
		wantEndpoint     string
		wantURI          string
	}{
		"commercial": {"ca-central-1", "", "aws",
			"https://abc123.execute-api.ca-central-1.amazonaws.com/prod/resize",
			"arn:aws:apigateway:ca-central-1:states:action/StartExecution"},
		"china": {"cn-north-1", "", "aws-cn",
			"https://abc123.execute-api.cn-north-1.amazonaws.com.cn/prod/resize",
			"arn:aws-cn:apigateway:cn-north-1:states:action/StartExecution"},
		"govcloud": {"us-gov-west-1", "", "aws-us-gov",
			"https://abc123.execute-api.us-gov-west-1.amazonaws.com/prod/resize",
			"arn:aws-us-gov:apigateway:us-gov-west-1:states:action/StartExecution"},
		"local stack": {"us-east-1", "http://127.0.0.1:4566/", "aws",
			"http://127.0.0.1:4566/restapis/abc123/prod/_user_request_/resize",
			"arn:aws:apigateway:us-east-1:states:action/StartExecution"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := ComputeDesired(pipeline(), tc.region)
			got := []string{d.Partition.ID, d.Endpoint("abc123", tc.override), d.StatesIntegrationURI()}
			want := []string{tc.wantPartition, tc.wantEndpoint, tc.wantURI}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("partition, endpoint, URI (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPolicies(t *testing.T) {
	d := ComputeDesired(pipeline(), "ca-central-1")
	cases := map[string]struct {
		doc  string
		want string
	}{
		"trust": {TrustPolicy("lambda.amazonaws.com"),
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":["sts:AssumeRole"]}]}`},
		"function": {d.FunctionPolicy("123456789012"), `{"Version":"2012-10-17","Statement":[` +
			`{"Sid":"ReadSourceImages","Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::image-uploads/*"]},` +
			`{"Sid":"WriteThumbnails","Effect":"Allow","Action":["s3:PutObject"],"Resource":["arn:aws:s3:::image-resized/*"]},` +
			`{"Sid":"CreateLogGroup","Effect":"Allow","Action":["logs:CreateLogGroup"],"Resource":["arn:aws:logs:ca-central-1:123456789012:log-group:/aws/lambda/ResizeImage:*"]},` +
			`{"Sid":"WriteLogs","Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":["arn:aws:logs:ca-central-1:123456789012:log-group:/aws/lambda/ResizeImage:log-stream:*"]}]}`},
		"state machine": {StateMachinePolicy("arn:aws:lambda:ca-central-1:1:function:ResizeImage"), `{"Version":"2012-10-17","Statement":[` +
			`{"Sid":"InvokeResizeFunction","Effect":"Allow","Action":["lambda:InvokeFunction"],"Resource":["arn:aws:lambda:ca-central-1:1:function:ResizeImage","arn:aws:lambda:ca-central-1:1:function:ResizeImage:*"]}]}`},
		"api": {APIPolicy("arn:aws:states:ca-central-1:1:stateMachine:ImageResizeWorkflow"), `{"Version":"2012-10-17","Statement":[` +
			`{"Sid":"StartResizeWorkflow","Effect":"Allow","Action":["states:StartExecution"],"Resource":["arn:aws:states:ca-central-1:1:stateMachine:ImageResizeWorkflow"]}]}`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.doc); diff != "" {
				t.Errorf("policy (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSameJSON(t *testing.T) {
	cases := map[string]struct {
		a, b string
		want bool
	}{
		"key order and space":       {`{"a":1,"b":[1,2]}`, "{ \"b\": [1, 2],\n \"a\": 1 }", true},
		"scalar versus one-element": {`{"Action":"s3:GetObject"}`, `{"Action":["s3:GetObject"]}`, true},
		"different value":           {`{"a":1}`, `{"a":2}`, false},
		"array order counts":        {`{"a":[1,2]}`, `{"a":[2,1]}`, false},
		"not JSON":                  {`x`, `x`, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := SameJSON(tc.a, tc.b); got != tc.want {
				t.Errorf("SameJSON(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

func TestDecodePolicy(t *testing.T) {
	cases := map[string]struct{ in, want string }{
		"raw":         {`{"a":"b"}`, `{"a":"b"}`},
		"url-encoded": {`%7B%22a%22%3A%22b%20c%22%7D`, `{"a":"b c"}`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, DecodePolicy(tc.in)); diff != "" {
				t.Errorf("DecodePolicy (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFunctionConfigEqual(t *testing.T) {
	base := FunctionConfig{Runtime: FunctionRuntime, Handler: FunctionHandler, MemoryMB: 1024, Timeout: 30, Architecture: "x86_64", RoleARN: "r"}
	cases := map[string]struct {
		a, b FunctionConfig
		want bool
	}{
		"nil and empty environment": {base, withEnv(base, map[string]string{}), true},
		"same environment":          {withEnv(base, map[string]string{"A": "1"}), withEnv(base, map[string]string{"A": "1"}), true},
		"memory differs":            {base, func() FunctionConfig { c := base; c.MemoryMB = 2048; return c }(), false},
		"environment differs":       {withEnv(base, map[string]string{"A": "1"}), withEnv(base, map[string]string{"A": "2"}), false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tc.a.Equal(tc.b); got != tc.want {
				t.Errorf("Equal = %v, want %v", got, tc.want)
			}
		})
	}
}

func withEnv(c FunctionConfig, env map[string]string) FunctionConfig {
	c.Environment = env
	return c
}

func TestDefinition(t *testing.T) {
	const fn = "arn:aws:lambda:ca-central-1:123456789012:function:ResizeImage"
	var got map[string]any
	if err := json.Unmarshal([]byte(Definition(fn)), &got); err != nil {
		t.Fatalf("Definition is not JSON: %v", err)
	}
	want := map[string]any{
		"Comment": "Resize an image from the source bucket into the destination bucket.",
		"StartAt": "ResizeImage",
		"States": map[string]any{
			"ResizeImage": map[string]any{
				"Type": "Task", "Resource": fn, "Next": "CheckResult",
				"Retry": []any{
					map[string]any{
						"ErrorEquals":     []any{"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"},
						"IntervalSeconds": 2.0, "MaxAttempts": 6.0, "BackoffRate": 2.0,
					},
					map[string]any{"ErrorEquals": []any{"StorageError"}, "IntervalSeconds": 1.0, "MaxAttempts": 2.0, "BackoffRate": 2.0},
				},
				"Catch": []any{map[string]any{"ErrorEquals": []any{"States.ALL"}, "ResultPath": "$.error", "Next": "Fail"}},
			},
			"CheckResult": map[string]any{
				"Type":    "Choice",
				"Choices": []any{map[string]any{"Variable": "$.status", "StringEquals": "success", "Next": "Success"}},
				"Default": "Fail",
			},
			"Success": map[string]any{"Type": "Succeed"},
			"Fail": map[string]any{"Type": "Fail", "Error": "ResizeFailed",
				"Cause": "ResizeImage failed or did not report success; the execution history's ResizeImage events hold the function's error and message."},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Definition (-want +got):\n%s", diff)
	}
	if !SameJSON(Definition(fn), Definition(fn)) {
		t.Errorf("Definition is not stable")
	}
}

// TestDefinitionValidatesWithASLValidator runs every definition the
// controller emits through asl-validator, an independent implementation of
// the States Language rules.
func TestDefinitionValidatesWithASLValidator(t *testing.T) {
	validator := aslValidator(t)
	for name, fn := range map[string]string{
		"commercial": "arn:aws:lambda:ca-central-1:123456789012:function:ResizeImage",
		"china":      "arn:aws-cn:lambda:cn-north-1:123456789012:function:ResizeImage",
		"local":      "arn:aws:lambda:us-east-1:000000000000:function:ResizeImage",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "definition.json")
			if err := os.WriteFile(path, []byte(Definition(fn)), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(validator, "--json-path", path).CombinedOutput()
			if err != nil {
				t.Fatalf("asl-validator rejects the definition: %v\n%s", err, out)
			}
		})
	}
	// The validator must be able to fail, or the test above proves nothing.
	path := filepath.Join(t.TempDir(), "broken.json")
	broken := strings.Replace(Definition("arn:aws:lambda:us-east-1:1:function:f"), `"Next": "CheckResult"`, `"Next": "Nowhere"`, 1)
	if err := os.WriteFile(path, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(validator, "--json-path", path).CombinedOutput(); err == nil {
		t.Fatalf("asl-validator accepts a definition with a missing Next target:\n%s", out)
	}
}

// aslValidator is the asl-validator executable from $ASL_VALIDATOR. Outside
// CI a missing one skips; in CI it is a failure.
func aslValidator(t *testing.T) string {
	t.Helper()
	v := os.Getenv("ASL_VALIDATOR")
	if v == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("ASL_VALIDATOR is not set; run the tests through make test")
		}
		t.Skip("ASL_VALIDATOR is not set (make npm-tools, then ASL_VALIDATOR=hack/tools/npm/node_modules/.bin/asl-validator)")
	}
	if _, err := os.Stat(v); err != nil {
		t.Fatalf("ASL_VALIDATOR=%s: %v", v, err)
	}
	return v
}

func TestRequestTemplate(t *testing.T) {
	const arn = "arn:aws:states:us-east-1:1:stateMachine:ImageResizeWorkflow"
	want := `{"stateMachineArn": "arn:aws:states:us-east-1:1:stateMachine:ImageResizeWorkflow", "name": "$context.requestId", ` +
		`"input": "$util.escapeJavaScript($input.json('$')).replaceAll("\\'", "'")"}`
	if diff := cmp.Diff(want, RequestTemplate(arn)); diff != "" {
		t.Errorf("RequestTemplate (-want +got):\n%s", diff)
	}
}

func TestRequestModelSchema(t *testing.T) {
	var schema struct {
		Schema     string                    `json:"$schema"`
		Type       string                    `json:"type"`
		Required   []string                  `json:"required"`
		Properties map[string]map[string]any `json:"properties"`
	}
	if err := json.Unmarshal([]byte(RequestModelSchema), &schema); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	got := map[string]any{"schema": schema.Schema, "type": schema.Type, "required": schema.Required, "properties": schema.Properties}
	want := map[string]any{
		"schema":   "http://json-schema.org/draft-04/schema#",
		"type":     "object",
		"required": []string{"image_key", "source_bucket", "destination_bucket"},
		"properties": map[string]map[string]any{
			"image_key":          {"type": "string", "minLength": 1.0},
			"source_bucket":      {"type": "string"},
			"destination_bucket": {"type": "string"},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request model (-want +got):\n%s", diff)
	}
}

func TestAPIHash(t *testing.T) {
	d := ComputeDesired(pipeline(), "us-east-1")
	a := d.DesiredAPI("sm1", "role1")
	cases := map[string]struct {
		other    APISpec
		wantSame bool
	}{
		"same API":            {d.DesiredAPI("sm1", "role1"), true},
		"other state machine": {d.DesiredAPI("sm2", "role1"), false},
		"other role":          {d.DesiredAPI("sm1", "role2"), false},
		"other path": {func() APISpec {
			d2 := d
			d2.Path = "thumbs"
			return d2.DesiredAPI("sm1", "role1")
		}(), false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := a.Hash() == tc.other.Hash(); got != tc.wantSame {
				t.Errorf("hash equal = %v, want %v", got, tc.wantSame)
			}
		})
	}
}

func TestMissingTags(t *testing.T) {
	cases := map[string]struct {
		desired, actual, want map[string]string
	}{
		"all there, extra kept": {map[string]string{"a": "1"}, map[string]string{"a": "1", "other": "x"}, nil},
		"missing":               {map[string]string{"a": "1", "b": "2"}, map[string]string{"a": "1"}, map[string]string{"b": "2"}},
		"changed value":         {map[string]string{"a": "1"}, map[string]string{"a": "0"}, map[string]string{"a": "1"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, missingTags(tc.desired, tc.actual)); diff != "" {
				t.Errorf("missingTags (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAccountOf(t *testing.T) {
	if got := AccountOf("arn:aws:iam::123456789012:role/x"); got != "123456789012" {
		t.Errorf("AccountOf = %q", got)
	}
	if got := AccountOf("nonsense"); got != "" {
		t.Errorf("AccountOf(nonsense) = %q", got)
	}
}
