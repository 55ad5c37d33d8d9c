package apigateway

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
)

// lookup walks a decoded JSON document by keys.
func lookup(doc any, keys ...string) any {
	for _, k := range keys {
		m, ok := doc.(map[string]any)
		if !ok {
			return nil
		}
		doc = m[k]
	}
	return doc
}

// TestPatchPaths applies one operation per supported path through the REST interface and
// reads the field back from the answer.
func TestPatchPaths(t *testing.T) {
	ctx := context.Background()
	_, ts, c := newTestServer(t, nil)
	api := createSeedAPI(t, c)
	val := must(c.CreateRequestValidator(ctx, &apigateway.CreateRequestValidatorInput{RestApiId: aws.String(api.id), Name: aws.String("v2")}))(t)
	dep := must(c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: aws.String(api.id)}))(t)
	m := "/restapis/" + api.id + "/resources/" + api.resourceID + "/methods/POST"
	cases := []struct {
		target, op, path, value string
		want                    any
		keys                    []string
	}{
		{"/restapis/" + api.id, "replace", "/name", "renamed", "renamed", []string{"name"}},
		{"/restapis/" + api.id, "replace", "/policy", `{"Version":"2012-10-17"}`, `{"Version":"2012-10-17"}`, []string{"policy"}},
		{"/restapis/" + api.id, "replace", "/apiKeySource", "AUTHORIZER", "AUTHORIZER", []string{"apiKeySource"}},
		{"/restapis/" + api.id, "replace", "/disableExecuteApiEndpoint", "true", true, []string{"disableExecuteApiEndpoint"}},
		{"/restapis/" + api.id, "replace", "/minimumCompressionSize", "1024", float64(1024), []string{"minimumCompressionSize"}},
		{"/restapis/" + api.id, "replace", "/endpointConfiguration/types/EDGE", "REGIONAL", []any{"REGIONAL"}, []string{"endpointConfiguration", "types"}},
		{m, "replace", "/authorizationType", "AWS_IAM", "AWS_IAM", []string{"authorizationType"}},
		{m, "replace", "/apiKeyRequired", "true", true, []string{"apiKeyRequired"}},
		{m, "replace", "/requestValidatorId", *val.Id, *val.Id, []string{"requestValidatorId"}},
		{m, "replace", "/operationName", "Resize", "Resize", []string{"operationName"}},
		{m, "add", "/requestParameters/method.request.querystring.size", "true", true, []string{"requestParameters", "method.request.querystring.size"}},
		{m, "replace", "/requestModels/application~1json", "Empty", "Empty", []string{"requestModels", "application/json"}},
		{m + "/integration", "replace", "/uri", "arn:aws:apigateway:ca-central-1:states:action/StartSyncExecution", "arn:aws:apigateway:ca-central-1:states:action/StartSyncExecution", []string{"uri"}},
		{m + "/integration", "replace", "/httpMethod", "post", "POST", []string{"httpMethod"}},
		{m + "/integration", "replace", "/passthroughBehavior", "NEVER", "NEVER", []string{"passthroughBehavior"}},
		{m + "/integration", "add", "/requestTemplates/text~1plain", "$input.body", "$input.body", []string{"requestTemplates", "text/plain"}},
		{m + "/integration", "remove", "/requestTemplates/text~1plain", "", nil, []string{"requestTemplates", "text/plain"}},
		{m + "/integration", "add", "/requestParameters/integration.request.header.X-Amz-Target", "'AWSStepFunctions.StartExecution'", "'AWSStepFunctions.StartExecution'", []string{"requestParameters", "integration.request.header.X-Amz-Target"}},
		{m + "/integration", "replace", "/contentHandling", "CONVERT_TO_TEXT", "CONVERT_TO_TEXT", []string{"contentHandling"}},
		{m + "/integration", "add", "/cacheKeyParameters/method.request.querystring.size", "", []any{"method.request.querystring.size"}, []string{"cacheKeyParameters"}},
		{m + "/responses/200", "add", "/responseModels/application~1json", "Empty", "Empty", []string{"responseModels", "application/json"}},
		{m + "/responses/200", "add", "/responseParameters/method.response.header.X-Extra", "false", false, []string{"responseParameters", "method.response.header.X-Extra"}},
		{m + "/integration/responses/400", "replace", "/selectionPattern", `4\d\d`, `4\d\d`, []string{"selectionPattern"}},
		{m + "/integration/responses/200", "add", "/responseTemplates/application~1xml", "<ok/>", "<ok/>", []string{"responseTemplates", "application/xml"}},
		{m + "/integration/responses/200", "replace", "/responseParameters/method.response.header.X-Stage", "'dev'", "'dev'", []string{"responseParameters", "method.response.header.X-Stage"}},
		{"/restapis/" + api.id + "/models/ResizeRequest", "replace", "/description", "d", "d", []string{"description"}},
		{"/restapis/" + api.id + "/requestvalidators/" + *val.Id, "replace", "/validateRequestParameters", "true", true, []string{"validateRequestParameters"}},
		{"/restapis/" + api.id + "/deployments/" + *dep.Id, "replace", "/description", "first", "first", []string{"description"}},
		{"/restapis/" + api.id + "/stages/prod", "replace", "/tracingEnabled", "true", true, []string{"tracingEnabled"}},
		{"/restapis/" + api.id + "/stages/prod", "replace", "/~1resize/POST/logging/loglevel", "INFO", "INFO", []string{"methodSettings", "resize/POST", "loggingLevel"}},
		{"/restapis/" + api.id + "/stages/prod", "replace", "/*/*/throttling/rateLimit", "12.5", 12.5, []string{"methodSettings", "*/*", "throttlingRateLimit"}},
		{"/restapis/" + api.id + "/stages/prod", "replace", "/accessLogSettings/format", "$context.requestId", "$context.requestId", []string{"accessLogSettings", "format"}},
		{"/restapis/" + api.id + "/stages/prod", "add", "/variables/color", "blue", "blue", []string{"variables", "color"}},
	}
	for _, tc := range cases {
		t.Run(tc.target+" "+tc.op+" "+tc.path, func(t *testing.T) {
			op := map[string]any{"op": tc.op, "path": tc.path}
			if tc.op != "remove" {
				op["value"] = tc.value
			}
			body, _ := json.Marshal(map[string]any{"patchOperations": []any{op}})
			r := do(t, "PATCH", ts.URL+tc.target, "application/json", string(body))
			if r.status != 200 && r.status != 201 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			var doc any
			if err := json.Unmarshal([]byte(r.body), &doc); err != nil {
				t.Fatal(err)
			}
			if got := lookup(doc, tc.keys...); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("%v = %v, want %v (answer %s)", tc.keys, got, tc.want, r.body)
			}
		})
	}

	// A failing operation leaves the whole PATCH unapplied.
	_, err := c.UpdateRestApi(ctx, &apigateway.UpdateRestApiInput{RestApiId: aws.String(api.id), PatchOperations: []types.PatchOperation{
		op(types.OpReplace, "/description", "half"), op(types.OpReplace, "/unknown", "x"),
	}})
	wantErr[*types.BadRequestException](t, err, "/unknown")
	if got := must(c.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: aws.String(api.id)}))(t); strings.Contains(aws.ToString(got.Description), "half") {
		t.Errorf("a failed PATCH was partly applied: %q", aws.ToString(got.Description))
	}
	// Patching a validator id that does not exist is refused, as a header mapping not declared
	// on the method response is.
	_, err = c.UpdateMethod(ctx, &apigateway.UpdateMethodInput{RestApiId: aws.String(api.id), ResourceId: aws.String(api.resourceID), HttpMethod: aws.String("POST"),
		PatchOperations: []types.PatchOperation{op(types.OpReplace, "/requestValidatorId", "nope")}})
	wantErr[*types.BadRequestException](t, err, "Request Validator")
	_, err = c.UpdateIntegrationResponse(ctx, &apigateway.UpdateIntegrationResponseInput{RestApiId: aws.String(api.id), ResourceId: aws.String(api.resourceID), HttpMethod: aws.String("POST"), StatusCode: aws.String("200"),
		PatchOperations: []types.PatchOperation{op(types.OpAdd, "/responseParameters/method.response.header.Undeclared", "'x'")}})
	wantErr[*types.BadRequestException](t, err, "Undeclared")
}
