package apigateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
)

// fakeInvoker records the calls an AWS integration makes and answers with a canned reply.
type fakeInvoker struct {
	mu     sync.Mutex
	calls  []invokeCall
	status int
	body   string
	delay  time.Duration
	err    error
}

type invokeCall struct {
	service, action string
	body            []byte
}

func (f *fakeInvoker) Invoke(ctx context.Context, service, action string, body []byte) (int, http.Header, []byte, error) {
	f.mu.Lock()
	f.calls = append(f.calls, invokeCall{service, action, body})
	status, reply, delay, err := f.status, f.body, f.delay, f.err
	f.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return 0, nil, nil, ctx.Err()
		}
	}
	if err != nil {
		return 0, nil, nil, err
	}
	return status, http.Header{"Content-Type": {"application/x-amz-json-1.0"}}, []byte(reply), nil
}

func (f *fakeInvoker) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func (f *fakeInvoker) last() invokeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[len(f.calls)-1]
}

const smARN = "arn:aws:states:ca-central-1:000000000000:stateMachine:ImageResizeWorkflow"

// seedAPI builds the original deployment's API: POST /resize validated against a model, an AWS
// integration to StartExecution with the seed template, 200 by default and 400 for 4xx.
type seedAPI struct {
	id, resourceID string
}

func createSeedAPI(t *testing.T, c *apigateway.Client) seedAPI {
	t.Helper()
	ctx := context.Background()
	api := must(c.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("ImageResizeAPI")}))(t)
	res := must(c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String("resize")}))(t)
	schema := `{"$schema":"http://json-schema.org/draft-04/schema#","type":"object","required":["image_key","source_bucket","destination_bucket"],
	  "properties":{"image_key":{"type":"string","minLength":1},"source_bucket":{"type":"string"},"destination_bucket":{"type":"string"}}}`
	must(c.CreateModel(ctx, &apigateway.CreateModelInput{RestApiId: api.Id, Name: aws.String("ResizeRequest"), ContentType: aws.String("application/json"), Schema: aws.String(schema)}))(t)
	val := must(c.CreateRequestValidator(ctx, &apigateway.CreateRequestValidatorInput{RestApiId: api.Id, Name: aws.String("body"), ValidateRequestBody: true}))(t)
	must(c.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("POST"), AuthorizationType: aws.String("NONE"),
		RequestValidatorId: val.Id, RequestModels: map[string]string{"application/json": "ResizeRequest"}}))(t)
	must(c.PutIntegration(ctx, &apigateway.PutIntegrationInput{
		RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("POST"), Type: types.IntegrationTypeAws,
		IntegrationHttpMethod: aws.String("POST"), Uri: aws.String("arn:aws:apigateway:ca-central-1:states:action/StartExecution"),
		Credentials: aws.String("arn:aws:iam::000000000000:role/ImageResizeAPIRole"), PassthroughBehavior: aws.String("WHEN_NO_TEMPLATES"),
		RequestTemplates: map[string]string{"application/json": `{"stateMachineArn": "` + smARN + `", "name": "$context.requestId", "input": "$util.escapeJavaScript($input.body)"}`},
	}))(t)
	for _, code := range []string{"200", "400"} {
		must(c.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("POST"), StatusCode: aws.String(code),
			ResponseParameters: map[string]bool{"method.response.header.X-Stage": false}}))(t)
	}
	must(c.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("POST"), StatusCode: aws.String("200"),
		ResponseParameters: map[string]string{"method.response.header.X-Stage": "'prod'"}}))(t)
	must(c.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("POST"), StatusCode: aws.String("400"),
		SelectionPattern: aws.String(`4\d{2}`), ResponseTemplates: map[string]string{"application/json": `{"error": $input.json('$.message')}`}}))(t)
	must(c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("prod")}))(t)
	return seedAPI{id: *api.Id, resourceID: *res.Id}
}

type result struct {
	status int
	header http.Header
	body   string
}

func post(t *testing.T, base, path, contentType, body string) result {
	t.Helper()
	return do(t, http.MethodPost, base+path, contentType, body)
}

func do(t *testing.T, method, url, contentType, body string) result {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }() // read in full below
	b, _ := io.ReadAll(resp.Body)
	return result{resp.StatusCode, resp.Header, string(b)}
}

const seedBody = `{"image_key":"test.jpg","source_bucket":"image-uploads-oanh","destination_bucket":"image-resized-oanh"}`

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestExecuteStartExecution(t *testing.T) {
	inv := &fakeInvoker{status: 200, body: `{"executionArn":"arn:aws:states:ca-central-1:000000000000:execution:ImageResizeWorkflow:x","startDate":1.7e9}`}
	_, ts, c := newTestServer(t, inv)
	api := createSeedAPI(t, c)
	url := "/restapis/" + api.id + "/prod/_user_request_/resize"

	r := post(t, ts.URL, url, "application/json", seedBody)
	if r.status != 200 || r.body != inv.body {
		t.Fatalf("POST: %d %s", r.status, r.body)
	}
	if r.header.Get("X-Stage") != "prod" || r.header.Get("Content-Type") != "application/json" {
		t.Errorf("response headers: %v", r.header)
	}
	call := inv.last()
	if call.service != "states" || call.action != "StartExecution" {
		t.Errorf("invoked %s:%s", call.service, call.action)
	}
	var sent struct{ StateMachineArn, Name, Input string }
	if err := json.Unmarshal(call.body, &sent); err != nil {
		t.Fatalf("rendered body is not JSON: %v\n%s", err, call.body)
	}
	if sent.StateMachineArn != smARN || sent.Input != seedBody || !uuidRE.MatchString(sent.Name) {
		t.Errorf("rendered StartExecution input: %+v", sent)
	}
	if r.header.Get("X-Amzn-Requestid") != sent.Name {
		t.Errorf("$context.requestId %s must be the request's id %s", sent.Name, r.header.Get("X-Amzn-Requestid"))
	}
	// Every request gets a fresh request id, so executions never collide on name.
	post(t, ts.URL, url, "", seedBody)
	var second struct{ Name string }
	_ = json.Unmarshal(inv.last().body, &second)
	if second.Name == sent.Name || !uuidRE.MatchString(second.Name) {
		t.Errorf("request ids must differ: %s %s", sent.Name, second.Name)
	}
	// AWS's host form reaches the same stage.
	req, _ := http.NewRequest("POST", ts.URL+"/prod/resize", strings.NewReader(seedBody))
	req.Host = api.id + ".execute-api.ca-central-1.amazonaws.com"
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close() // only the status matters
	if resp.StatusCode != 200 {
		t.Errorf("host form: %d", resp.StatusCode)
	}
	// A charset parameter does not change the template chosen.
	if r := post(t, ts.URL, url, "application/json; charset=utf-8", seedBody); r.status != 200 {
		t.Errorf("with charset: %d %s", r.status, r.body)
	}

	// A Step Functions error is mapped by selection pattern onto the 400 response.
	inv.mu.Lock()
	inv.status, inv.body = 400, `{"__type":"com.amazonaws.swf.service.v2.model#ExecutionAlreadyExists","message":"Execution Already Exists: 'x'"}`
	inv.mu.Unlock()
	r = post(t, ts.URL, url, "application/json", seedBody)
	if r.status != 400 || r.body != `{"error": "Execution Already Exists: 'x'"}` {
		t.Errorf("4xx mapping: %d %s", r.status, r.body)
	}
	// A status no pattern matches falls to the default (200) response, as on AWS.
	inv.mu.Lock()
	inv.status, inv.body = 500, `{"message":"boom"}`
	inv.mu.Unlock()
	if r = post(t, ts.URL, url, "application/json", seedBody); r.status != 200 || r.body != `{"message":"boom"}` {
		t.Errorf("default response: %d %s", r.status, r.body)
	}
}

func TestExecuteValidationAndErrors(t *testing.T) {
	inv := &fakeInvoker{status: 200, body: `{}`}
	_, ts, c := newTestServer(t, inv)
	api := createSeedAPI(t, c)
	base := ts.URL + "/restapis/" + api.id + "/prod/_user_request_"

	cases := []struct {
		name, method, path, contentType, body string
		status                                int
		errType, message                      string
	}{
		{"missing required field", "POST", "/resize", "application/json", `{"image_key":"a.jpg"}`, 400, "BadRequestException", "Invalid request body"},
		{"wrong type", "POST", "/resize", "application/json", `{"image_key":1,"source_bucket":"a","destination_bucket":"b"}`, 400, "BadRequestException", "Invalid request body"},
		{"not JSON", "POST", "/resize", "application/json", `{"image_key":`, 400, "BadRequestException", "Invalid request body"},
		{"empty body", "POST", "/resize", "application/json", ``, 400, "BadRequestException", "Invalid request body"},
		{"no template for the content type (WHEN_NO_TEMPLATES)", "POST", "/resize", "text/plain", `hello`, 415, "UnsupportedMediaTypeException", "Unsupported Media Type"},
		{"unknown path", "POST", "/nope", "application/json", seedBody, 403, "MissingAuthenticationTokenException", "Missing Authentication Token"},
		{"unknown method", "GET", "/resize", "", "", 403, "MissingAuthenticationTokenException", "Missing Authentication Token"},
		{"root without a method", "GET", "/", "", "", 403, "MissingAuthenticationTokenException", "Missing Authentication Token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := inv.callCount()
			r := do(t, tc.method, base+tc.path, tc.contentType, tc.body)
			if r.status != tc.status || r.header.Get("X-Amzn-Errortype") != tc.errType {
				t.Fatalf("got %d %q %s", r.status, r.header.Get("X-Amzn-Errortype"), r.body)
			}
			want := `{"message": "` + tc.message + `"}`
			if tc.status == 403 {
				want = `{"message":"` + tc.message + `"}`
			}
			if r.body != want {
				t.Errorf("body %s, want %s", r.body, want)
			}
			if inv.callCount() != before {
				t.Errorf("a rejected request must not reach the integration")
			}
		})
	}

	if r := post(t, ts.URL, "/restapis/"+api.id+"/staging/_user_request_/resize", "application/json", seedBody); r.status != 403 || !strings.Contains(r.body, "Forbidden") {
		t.Errorf("unknown stage: %d %s", r.status, r.body)
	}
	if r := post(t, ts.URL, "/restapis/abcdefghij/prod/_user_request_/resize", "application/json", seedBody); r.status != 404 {
		t.Errorf("unknown API: %d %s", r.status, r.body)
	}
}

func TestExecuteServesOnlyTheDeployedSnapshot(t *testing.T) {
	ctx := context.Background()
	inv := &fakeInvoker{status: 200, body: `{}`}
	_, ts, c := newTestServer(t, inv)
	api := createSeedAPI(t, c)
	url := "/restapis/" + api.id + "/prod/_user_request_/resize"

	must(c.UpdateIntegration(ctx, &apigateway.UpdateIntegrationInput{RestApiId: aws.String(api.id), ResourceId: aws.String(api.resourceID), HttpMethod: aws.String("POST"),
		PatchOperations: []types.PatchOperation{op(types.OpReplace, "/requestTemplates/application~1json", `{"changed": true}`)}}))(t)
	if r := post(t, ts.URL, url, "application/json", seedBody); r.status != 200 || strings.Contains(string(inv.last().body), "changed") {
		t.Fatalf("an undeployed change was served: %d %s", r.status, inv.last().body)
	}
	// A resource added after the deployment is not served either.
	api2 := must(c.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: aws.String(api.id)}))(t)
	res := must(c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api2.Id, ParentId: api2.RootResourceId, PathPart: aws.String("new")}))(t)
	must(c.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api2.Id, ResourceId: res.Id, HttpMethod: aws.String("GET"), AuthorizationType: aws.String("NONE")}))(t)
	must(c.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: api2.Id, ResourceId: res.Id, HttpMethod: aws.String("GET"), Type: types.IntegrationTypeMock,
		RequestTemplates: map[string]string{"application/json": `{"statusCode": 200}`}}))(t)
	must(c.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{RestApiId: api2.Id, ResourceId: res.Id, HttpMethod: aws.String("GET"), StatusCode: aws.String("200")}))(t)
	must(c.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: api2.Id, ResourceId: res.Id, HttpMethod: aws.String("GET"), StatusCode: aws.String("200"),
		ResponseTemplates: map[string]string{"application/json": `{"stage": "$context.stage", "path": "$context.resourcePath"}`}}))(t)
	if r := do(t, "GET", ts.URL+"/restapis/"+api.id+"/prod/_user_request_/new", "", ""); r.status != 403 {
		t.Fatalf("an undeployed resource was served: %d %s", r.status, r.body)
	}

	must(c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: aws.String(api.id), StageName: aws.String("prod")}))(t)
	if r := post(t, ts.URL, url, "application/json", seedBody); r.status != 200 || string(inv.last().body) != `{"changed": true}` {
		t.Errorf("after CreateDeployment the change must be served: %d %s", r.status, inv.last().body)
	}
	if r := do(t, "GET", ts.URL+"/restapis/"+api.id+"/prod/_user_request_/new", "", ""); r.status != 200 || r.body != `{"stage": "prod", "path": "/new"}` {
		t.Errorf("MOCK after deployment: %d %s", r.status, r.body)
	}
}

// putMock adds a MOCK method with one integration response to an API.
func putMock(t *testing.T, c *apigateway.Client, apiID, resID, method string, integ *apigateway.PutIntegrationInput, ir *apigateway.PutIntegrationResponseInput) {
	t.Helper()
	ctx := context.Background()
	must(c.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: &apiID, ResourceId: &resID, HttpMethod: &method, AuthorizationType: aws.String("NONE")}))(t)
	integ.RestApiId, integ.ResourceId, integ.HttpMethod = &apiID, &resID, &method
	if integ.Type == "" {
		integ.Type = types.IntegrationTypeMock
	}
	must(c.PutIntegration(ctx, integ))(t)
	code := aws.String("200")
	if ir.StatusCode != nil {
		code = ir.StatusCode
	}
	must(c.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{RestApiId: &apiID, ResourceId: &resID, HttpMethod: &method, StatusCode: code,
		ResponseParameters: map[string]bool{"method.response.header.X-Id": false}}))(t)
	ir.RestApiId, ir.ResourceId, ir.HttpMethod, ir.StatusCode = &apiID, &resID, &method, code
	must(c.PutIntegrationResponse(ctx, ir))(t)
}

func TestExecuteMockPathsAndPassthrough(t *testing.T) {
	ctx := context.Background()
	inv := &fakeInvoker{status: 200, body: `{}`}
	_, ts, c := newTestServer(t, inv)
	api := must(c.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("mock")}))(t)
	items := must(c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String("items")}))(t)
	item := must(c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: items.Id, PathPart: aws.String("{id}")}))(t)
	special := must(c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: items.Id, PathPart: aws.String("special")}))(t)
	files := must(c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String("files")}))(t)
	greedy := must(c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: files.Id, PathPart: aws.String("{key+}")}))(t)
	broken := must(c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String("broken")}))(t)
	echo := must(c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String("echo")}))(t)
	slow := must(c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String("slow")}))(t)
	params := must(c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String("params")}))(t)

	mock200 := map[string]string{"application/json": `{"statusCode": 200}`}
	putMock(t, c, *api.Id, *item.Id, "GET", &apigateway.PutIntegrationInput{RequestTemplates: mock200},
		&apigateway.PutIntegrationResponseInput{ResponseTemplates: map[string]string{"application/json": `{"id": "$input.params('id')", "q": "$input.params('q')"}`},
			ResponseParameters: map[string]string{"method.response.header.X-Id": "'fixed'"}})
	putMock(t, c, *api.Id, *special.Id, "ANY", &apigateway.PutIntegrationInput{RequestTemplates: mock200},
		&apigateway.PutIntegrationResponseInput{ResponseTemplates: map[string]string{"application/json": `special $context.httpMethod`}})
	putMock(t, c, *api.Id, *greedy.Id, "GET", &apigateway.PutIntegrationInput{RequestTemplates: mock200},
		&apigateway.PutIntegrationResponseInput{ResponseTemplates: map[string]string{"application/json": `$input.params('key')`}})
	putMock(t, c, *api.Id, *broken.Id, "GET", &apigateway.PutIntegrationInput{RequestTemplates: map[string]string{"application/json": `#macro(x)#end{"statusCode": 200}`}},
		&apigateway.PutIntegrationResponseInput{})
	// An AWS integration whose template is absent: WHEN_NO_MATCH passes the body through.
	putMock(t, c, *api.Id, *echo.Id, "POST", &apigateway.PutIntegrationInput{Type: types.IntegrationTypeAws, IntegrationHttpMethod: aws.String("POST"),
		Uri: aws.String("arn:aws:apigateway:ca-central-1:states:action/StartSyncExecution"), RequestTemplates: map[string]string{"application/xml": "<x/>"}},
		&apigateway.PutIntegrationResponseInput{})
	putMock(t, c, *api.Id, *slow.Id, "POST", &apigateway.PutIntegrationInput{Type: types.IntegrationTypeAws, IntegrationHttpMethod: aws.String("POST"),
		Uri: aws.String("arn:aws:apigateway:ca-central-1:states:action/StartExecution"), TimeoutInMillis: aws.Int32(100), PassthroughBehavior: aws.String("NEVER"),
		RequestTemplates: map[string]string{"application/json": "{}"}},
		&apigateway.PutIntegrationResponseInput{})
	v := must(c.CreateRequestValidator(ctx, &apigateway.CreateRequestValidatorInput{RestApiId: api.Id, Name: aws.String("params"), ValidateRequestParameters: true}))(t)
	putMock(t, c, *api.Id, *params.Id, "GET", &apigateway.PutIntegrationInput{RequestTemplates: mock200},
		&apigateway.PutIntegrationResponseInput{ResponseTemplates: map[string]string{"application/json": `ok`}})
	must(c.UpdateMethod(ctx, &apigateway.UpdateMethodInput{RestApiId: api.Id, ResourceId: params.Id, HttpMethod: aws.String("GET"), PatchOperations: []types.PatchOperation{
		op(types.OpReplace, "/requestValidatorId", *v.Id), op(types.OpAdd, "/requestParameters/method.request.querystring.size", "true"),
		op(types.OpAdd, "/requestParameters/method.request.header.X-Key", "true"),
	}}))(t)
	iam := must(c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String("iam")}))(t)
	putMock(t, c, *api.Id, *iam.Id, "GET", &apigateway.PutIntegrationInput{RequestTemplates: mock200},
		&apigateway.PutIntegrationResponseInput{ResponseTemplates: map[string]string{"application/json": `ok`}})
	must(c.UpdateMethod(ctx, &apigateway.UpdateMethodInput{RestApiId: api.Id, ResourceId: iam.Id, HttpMethod: aws.String("GET"), PatchOperations: []types.PatchOperation{
		op(types.OpReplace, "/authorizationType", "AWS_IAM"), op(types.OpReplace, "/apiKeyRequired", "true"),
	}}))(t)
	must(c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("v1"), Variables: map[string]string{"x": "1"}}))(t)
	base := ts.URL + "/restapis/" + *api.Id + "/v1/_user_request_"

	check := func(name string, r result, status int, body string) {
		t.Helper()
		if r.status != status || (body != "" && r.body != body) {
			t.Errorf("%s: got %d %s, want %d %s", name, r.status, r.body, status, body)
		}
	}
	r := do(t, "GET", base+"/items/42?q=a%20b", "", "")
	check("path parameter", r, 200, `{"id": "42", "q": "a b"}`)
	if r.header.Get("X-Id") != "fixed" {
		t.Errorf("response parameter: %v", r.header)
	}
	check("a literal part wins over a variable", do(t, "DELETE", base+"/items/special", "", ""), 200, "special DELETE")
	check("greedy path variable", do(t, "GET", base+"/files/a/b/c.jpg", "", ""), 200, "a/b/c.jpg")
	check("trailing slash", do(t, "GET", base+"/items/42/", "", ""), 200, `{"id": "42", "q": ""}`)
	check("unsupported VTL is a 500", do(t, "GET", base+"/broken", "", ""), 500, `{"message": "Internal server error"}`)
	r = post(t, base, "/echo", "application/json", `{"raw": true}`)
	check("WHEN_NO_MATCH passes the body through", r, 200, `{}`)
	if call := inv.last(); call.action != "StartSyncExecution" || string(call.body) != `{"raw": true}` {
		t.Errorf("passthrough call: %s %s", call.action, call.body)
	}
	inv.mu.Lock()
	inv.delay = 2 * time.Second
	inv.mu.Unlock()
	check("integration timeout", post(t, base, "/slow", "application/json", `{}`), 504, `{"message": "Endpoint request timed out"}`)
	check("NEVER refuses an unmapped content type", post(t, base, "/slow", "text/plain", `x`), 415, "")
	check("missing required parameters", do(t, "GET", base+"/params", "", ""), 400, `{"message": "Missing required request parameters: [X-Key, size]"}`)
	check("unsigned call of an AWS_IAM method", do(t, "GET", base+"/iam", "", ""), 403, `{"message":"Missing Authentication Token"}`)
	signed, _ := http.NewRequest("GET", base+"/iam", nil)
	signed.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20261204/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=0")
	if resp, err := http.DefaultClient.Do(signed); err != nil || resp.StatusCode != 403 {
		t.Errorf("signed call without an API key: %v %v", resp.StatusCode, err)
	} else {
		_ = resp.Body.Close() // only the status matters
	}
	signed.Header.Set("X-Api-Key", "k")
	if resp, err := http.DefaultClient.Do(signed); err != nil || resp.StatusCode != 200 {
		t.Errorf("signed call with an API key: %v %v", resp.StatusCode, err)
	} else {
		_ = resp.Body.Close() // only the status matters
	}
	req, _ := http.NewRequest("GET", base+"/params?size=2", nil)
	req.Header.Set("X-Key", "k")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close() // only the status matters
	if resp.StatusCode != 200 {
		t.Errorf("parameters present: %d", resp.StatusCode)
	}
}

func TestMalformedControlRequestsDoNotPanic(t *testing.T) {
	_, ts, _ := newTestServer(t, nil)
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/restapis", `{"name":`},
		{"POST", "/restapis", `[]`},
		{"POST", "/restapis", `{"name": 5}`},
		{"PATCH", "/restapis/zzz", `{}`},
		{"GET", "/tags/arn:aws:apigateway:x::/nothing", ``},
		{"PUT", "/restapis", ``},
		{"GET", "/", ``},
		{"GET", "/restapis/a/b/c/d/e/f/g/h/i", ``},
	} {
		r := do(t, tc.method, ts.URL+tc.path, "application/json", tc.body)
		if r.status < 400 || r.status >= 500 || r.header.Get("X-Amzn-Errortype") == "" {
			t.Errorf("%s %s %s: got %d %s", tc.method, tc.path, tc.body, r.status, r.body)
		}
	}
	// A PATCH body that is not a patch document is a 400 too.
	_, _, c := newTestServer(t, nil)
	api := must(c.CreateRestApi(context.Background(), &apigateway.CreateRestApiInput{Name: aws.String("x")}))(t)
	_, err := c.UpdateRestApi(context.Background(), &apigateway.UpdateRestApiInput{RestApiId: api.Id, PatchOperations: []types.PatchOperation{{Op: types.OpMove, Path: aws.String("/name")}}})
	wantErr[*types.BadRequestException](t, err, "patch operation")
}

// Control-plane writes, deployments and execute-api calls may interleave freely.
func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	inv := &fakeInvoker{status: 200, body: `{}`}
	_, ts, c := newTestServer(t, inv)
	api := createSeedAPI(t, c)
	url := "/restapis/" + api.id + "/prod/_user_request_/resize"
	root := must(c.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: aws.String(api.id)}))(t).RootResourceId
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(3)
		go func() {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				if r := post(t, ts.URL, url, "application/json", seedBody); r.status != 200 {
					t.Errorf("execute: %d %s", r.status, r.body)
				}
			}
		}()
		go func(i int) {
			defer wg.Done()
			_, err := c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: aws.String(api.id), ParentId: root, PathPart: aws.String("p" + string(rune('a'+i)))})
			if err != nil {
				t.Errorf("CreateResource: %v", err)
			}
			_, _ = c.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: aws.String(api.id), Embed: []string{"methods"}})
		}(i)
		go func() {
			defer wg.Done()
			if _, err := c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: aws.String(api.id), StageName: aws.String("prod")}); err != nil {
				t.Errorf("CreateDeployment: %v", err)
			}
		}()
	}
	wg.Wait()
}

// TestInvokeMethod runs the method as it is now, deployed or not, like the console's Test button.
func TestTestInvokeMethod(t *testing.T) {
	ctx := context.Background()
	inv := &fakeInvoker{status: 200, body: `{"executionArn":"arn:x"}`}
	_, _, c := newTestServer(t, inv)
	api := createSeedAPI(t, c)
	must(c.UpdateIntegration(ctx, &apigateway.UpdateIntegrationInput{RestApiId: aws.String(api.id), ResourceId: aws.String(api.resourceID), HttpMethod: aws.String("POST"),
		PatchOperations: []types.PatchOperation{op(types.OpReplace, "/requestTemplates/application~1json", `{"undeployed": "$input.path('$.image_key')"}`)}}))(t)
	out := must(c.TestInvokeMethod(ctx, &apigateway.TestInvokeMethodInput{RestApiId: aws.String(api.id), ResourceId: aws.String(api.resourceID), HttpMethod: aws.String("POST"),
		PathWithQueryString: aws.String("/resize"), Body: aws.String(seedBody), Headers: map[string]string{"Content-Type": "application/json"}}))(t)
	if out.Status != 200 || aws.ToString(out.Body) != inv.body || string(inv.last().body) != `{"undeployed": "test.jpg"}` {
		t.Errorf("TestInvokeMethod: %d %s, sent %s", out.Status, aws.ToString(out.Body), inv.last().body)
	}
	if out.Headers["Content-Type"] != "application/json" || !strings.Contains(aws.ToString(out.Log), "Method completed with status: 200") {
		t.Errorf("headers %v, log %s", out.Headers, aws.ToString(out.Log))
	}
	out = must(c.TestInvokeMethod(ctx, &apigateway.TestInvokeMethodInput{RestApiId: aws.String(api.id), ResourceId: aws.String(api.resourceID), HttpMethod: aws.String("POST"),
		Body: aws.String(`{}`)}))(t)
	if out.Status != 400 || aws.ToString(out.Body) != `{"message": "Invalid request body"}` {
		t.Errorf("validation through TestInvokeMethod: %d %s", out.Status, aws.ToString(out.Body))
	}
	_, err := c.TestInvokeMethod(ctx, &apigateway.TestInvokeMethodInput{RestApiId: aws.String(api.id), ResourceId: aws.String(api.resourceID), HttpMethod: aws.String("GET")})
	wantErr[*types.NotFoundException](t, err, "Method")
}

func TestExecuteHTTPIntegrations(t *testing.T) {
	ctx := context.Background()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Backend", "yes")
		if strings.HasSuffix(r.URL.Path, "/missing") {
			w.WriteHeader(404)
		}
		_, _ = fmt.Fprintf(w, `{"method":%q,"path":%q,"query":%q,"key":%q,"trace":%q,"body":%q}`,
			r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("X-Key"), r.Header.Get("X-Trace"), b)
	}))
	t.Cleanup(backend.Close)
	_, ts, c := newTestServer(t, nil)
	api := must(c.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("http")}))(t)
	users := must(c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String("users")}))(t)
	user := must(c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: users.Id, PathPart: aws.String("{id}")}))(t)
	proxy := must(c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String("{proxy+}")}))(t)

	putMock(t, c, *api.Id, *user.Id, "POST", &apigateway.PutIntegrationInput{Type: types.IntegrationTypeHttp, IntegrationHttpMethod: aws.String("PUT"),
		Uri: aws.String(backend.URL + "/v1/users/{uid}"),
		RequestParameters: map[string]string{
			"integration.request.path.uid": "method.request.path.id", "integration.request.header.X-Key": "'k1'",
			"integration.request.querystring.src": "method.request.querystring.from",
		},
		RequestTemplates: map[string]string{"application/json": `{"wrapped": $input.json('$')}`}},
		&apigateway.PutIntegrationResponseInput{ResponseTemplates: map[string]string{"application/json": `{"backend": $input.json('$.body'), "path": $input.json('$.path'), "query": $input.json('$.query'), "key": $input.json('$.key')}`}})
	must(c.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: proxy.Id, HttpMethod: aws.String("ANY"), AuthorizationType: aws.String("NONE")}))(t)
	must(c.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: api.Id, ResourceId: proxy.Id, HttpMethod: aws.String("ANY"), Type: types.IntegrationTypeHttpProxy,
		IntegrationHttpMethod: aws.String("ANY"), Uri: aws.String(backend.URL + "/{proxy}"),
		RequestParameters: map[string]string{"integration.request.path.proxy": "method.request.path.proxy"}}))(t)
	must(c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("dev")}))(t)
	base := ts.URL + "/restapis/" + *api.Id + "/dev/_user_request_"

	r := post(t, base, "/users/7?from=web", "application/json", `{"a":1}`)
	want := `{"backend": "{\"wrapped\": {\"a\":1}}", "path": "/v1/users/7", "query": "src=web", "key": "k1"}`
	if r.status != 200 || r.body != want {
		t.Errorf("HTTP integration:\n got %d %s\nwant %s", r.status, r.body, want)
	}

	req, _ := http.NewRequest("DELETE", base+"/files/a%20b/c.txt?x=1", strings.NewReader("raw"))
	req.Header.Set("X-Trace", "t-9")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close() // read in full above
	var got map[string]string
	_ = json.Unmarshal(b, &got)
	if resp.StatusCode != 200 || resp.Header.Get("X-Backend") != "yes" || got["method"] != "DELETE" || got["path"] != "/files/a b/c.txt" ||
		got["query"] != "x=1" || got["trace"] != "t-9" || got["body"] != "raw" {
		t.Errorf("HTTP_PROXY: %d %s %v", resp.StatusCode, b, resp.Header)
	}
	if r := do(t, "GET", base+"/some/missing", "", ""); r.status != 404 {
		t.Errorf("HTTP_PROXY passes the status through: %d %s", r.status, r.body)
	}
}
