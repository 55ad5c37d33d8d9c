package apigateway

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
)

const testRegion = "ca-central-1"

// newTestServer serves the control plane and execute-api on one httptest server, routed as the
// front door routes them, and returns an SDK client pointed at it.
func newTestServer(t *testing.T, inv ServiceInvoker) (*Server, *httptest.Server, *apigateway.Client) {
	t.Helper()
	s := New(Options{Region: testRegion, AccountID: "000000000000", Invoker: inv})
	s.logf = t.Logf
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/_user_request_/") || strings.Contains(r.Host, ".execute-api.") {
			s.ServeExecuteAPI(w, r)
			return
		}
		s.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	client := apigateway.New(apigateway.Options{
		Region:       testRegion,
		BaseEndpoint: aws.String(ts.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:   ts.Client(),
	})
	return s, ts, client
}

// must(call())(t) fails the test when call returned an error.
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

// wantErr checks the SDK parsed the error as the given modeled exception.
func wantErr[E error](t *testing.T, err error, msgPart string) {
	t.Helper()
	var target E
	if !errors.As(err, &target) {
		t.Fatalf("want %T, got %v", target, err)
	}
	if msgPart != "" && !strings.Contains(err.Error(), msgPart) {
		t.Fatalf("error %q does not mention %q", err, msgPart)
	}
}

var restAPIIDRE = regexp.MustCompile(`^[a-z0-9]{10}$`)

func op(o types.Op, path, value string) types.PatchOperation {
	p := types.PatchOperation{Op: o, Path: aws.String(path)}
	if value != "" || o != types.OpRemove {
		p.Value = aws.String(value)
	}
	return p
}

func TestControlPlaneRoundTrip(t *testing.T) {
	ctx := context.Background()
	_, _, c := newTestServer(t, nil)

	api := must(c.CreateRestApi(ctx, &apigateway.CreateRestApiInput{
		Name: aws.String("ImageResizeAPI"), Description: aws.String("resize"),
		Tags: map[string]string{"resize.dev/owner": "default/demo"},
	}))(t)
	if !restAPIIDRE.MatchString(*api.Id) {
		t.Errorf("rest API id %q does not look like AWS's", *api.Id)
	}
	if api.CreatedDate == nil || api.CreatedDate.IsZero() || api.RootResourceId == nil {
		t.Errorf("CreateRestApi: missing createdDate or rootResourceId: %+v", api)
	}
	if api.EndpointConfiguration == nil || api.EndpointConfiguration.Types[0] != types.EndpointTypeEdge {
		t.Errorf("default endpoint type should be EDGE: %+v", api.EndpointConfiguration)
	}
	id := api.Id
	apis := must(c.GetRestApis(ctx, &apigateway.GetRestApisInput{}))(t)
	if len(apis.Items) != 1 || *apis.Items[0].Name != "ImageResizeAPI" || apis.Items[0].Tags["resize.dev/owner"] != "default/demo" {
		t.Fatalf("GetRestApis: %+v", apis.Items)
	}

	res := must(c.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: id}))(t)
	if len(res.Items) != 1 || *res.Items[0].Path != "/" || *res.Items[0].Id != *api.RootResourceId {
		t.Fatalf("a new API has exactly its root resource: %+v", res.Items)
	}
	resize := must(c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: id, ParentId: api.RootResourceId, PathPart: aws.String("resize")}))(t)
	if *resize.Path != "/resize" || *resize.ParentId != *api.RootResourceId {
		t.Errorf("CreateResource: %+v", resize)
	}
	_, err := c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: id, ParentId: api.RootResourceId, PathPart: aws.String("resize")})
	wantErr[*types.ConflictException](t, err, "same parent")

	models := must(c.GetModels(ctx, &apigateway.GetModelsInput{RestApiId: id}))(t)
	if len(models.Items) != 2 {
		t.Errorf("AWS adds the Empty and Error models to a new API, got %d models", len(models.Items))
	}
	schema := `{"$schema":"http://json-schema.org/draft-04/schema#","type":"object","required":["image_key"],"properties":{"image_key":{"type":"string","minLength":1}}}`
	must(c.CreateModel(ctx, &apigateway.CreateModelInput{RestApiId: id, Name: aws.String("ResizeRequest"), ContentType: aws.String("application/json"), Schema: aws.String(schema)}))(t)
	_, err = c.CreateModel(ctx, &apigateway.CreateModelInput{RestApiId: id, Name: aws.String("ResizeRequest"), ContentType: aws.String("application/json"), Schema: aws.String(schema)})
	wantErr[*types.ConflictException](t, err, "")
	_, err = c.CreateModel(ctx, &apigateway.CreateModelInput{RestApiId: id, Name: aws.String("Bad"), ContentType: aws.String("application/json"), Schema: aws.String(`{"type":`)})
	wantErr[*types.BadRequestException](t, err, "Invalid model")
	val := must(c.CreateRequestValidator(ctx, &apigateway.CreateRequestValidatorInput{RestApiId: id, Name: aws.String("body"), ValidateRequestBody: true}))(t)

	meth := must(c.PutMethod(ctx, &apigateway.PutMethodInput{
		RestApiId: id, ResourceId: resize.Id, HttpMethod: aws.String("POST"), AuthorizationType: aws.String("NONE"),
		RequestValidatorId: val.Id, RequestModels: map[string]string{"application/json": "ResizeRequest"},
		RequestParameters: map[string]bool{"method.request.header.X-Trace": false},
	}))(t)
	if *meth.RequestValidatorId != *val.Id || meth.RequestModels["application/json"] != "ResizeRequest" {
		t.Errorf("PutMethod must keep requestValidatorId and requestModels: %+v", meth)
	}
	_, err = c.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: id, ResourceId: resize.Id, HttpMethod: aws.String("POST"), AuthorizationType: aws.String("NONE")})
	wantErr[*types.ConflictException](t, err, "")
	_, err = c.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: id, ResourceId: resize.Id, HttpMethod: aws.String("GET"), AuthorizationType: aws.String("NONE"), RequestValidatorId: aws.String("nope")})
	wantErr[*types.BadRequestException](t, err, "Request Validator")
	_, err = c.GetIntegration(ctx, &apigateway.GetIntegrationInput{RestApiId: id, ResourceId: resize.Id, HttpMethod: aws.String("POST")})
	wantErr[*types.NotFoundException](t, err, "No integration")
	_, err = c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: id, StageName: aws.String("prod")})
	wantErr[*types.BadRequestException](t, err, "No integration defined")

	role := "arn:aws:iam::000000000000:role/ImageResizeAPIRole"
	tpl := `{"stateMachineArn": "arn:aws:states:ca-central-1:000000000000:stateMachine:ImageResizeWorkflow", "name": "$context.requestId", "input": "$util.escapeJavaScript($input.body)"}`
	_, err = c.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: id, ResourceId: resize.Id, HttpMethod: aws.String("POST"), Type: types.IntegrationTypeAws, Uri: aws.String("arn:aws:apigateway:ca-central-1:states:action/StartExecution")})
	wantErr[*types.BadRequestException](t, err, "HttpMethod")
	integ := must(c.PutIntegration(ctx, &apigateway.PutIntegrationInput{
		RestApiId: id, ResourceId: resize.Id, HttpMethod: aws.String("POST"), Type: types.IntegrationTypeAws,
		IntegrationHttpMethod: aws.String("POST"), Uri: aws.String("arn:aws:apigateway:ca-central-1:states:action/StartExecution"),
		Credentials: aws.String(role), RequestTemplates: map[string]string{"application/json": tpl},
		PassthroughBehavior: aws.String("NEVER"),
	}))(t)
	if *integ.Credentials != role || integ.RequestTemplates["application/json"] != tpl || integ.TimeoutInMillis != 29000 || *integ.PassthroughBehavior != "NEVER" || *integ.HttpMethod != "POST" {
		t.Errorf("PutIntegration: %+v", integ)
	}
	must(c.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{RestApiId: id, ResourceId: resize.Id, HttpMethod: aws.String("POST"), StatusCode: aws.String("200"),
		ResponseModels: map[string]string{"application/json": "Empty"}}))(t)
	_, err = c.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: id, ResourceId: resize.Id, HttpMethod: aws.String("POST"), StatusCode: aws.String("400")})
	wantErr[*types.NotFoundException](t, err, "status code")
	ir := must(c.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: id, ResourceId: resize.Id, HttpMethod: aws.String("POST"), StatusCode: aws.String("200"),
		ResponseTemplates: map[string]string{"application/json": "$input.json('$')"}}))(t)
	if *ir.StatusCode != "200" || ir.ResponseTemplates["application/json"] != "$input.json('$')" {
		t.Errorf("PutIntegrationResponse: %+v", ir)
	}

	got := must(c.GetMethod(ctx, &apigateway.GetMethodInput{RestApiId: id, ResourceId: resize.Id, HttpMethod: aws.String("POST")}))(t)
	if got.MethodIntegration == nil || got.MethodIntegration.IntegrationResponses["200"].ResponseTemplates["application/json"] == "" || got.MethodResponses["200"].ResponseModels["application/json"] != "Empty" {
		t.Errorf("GetMethod must embed the integration and method responses: %+v", got)
	}
	emb := must(c.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: id, Embed: []string{"methods"}}))(t)
	found := false
	for _, r := range emb.Items {
		if m, ok := r.ResourceMethods["POST"]; ok && *r.Path == "/resize" {
			found = m.MethodIntegration != nil && *m.MethodIntegration.Uri != ""
		}
	}
	if !found {
		t.Errorf("GetResources embed=methods must include the integration: %+v", emb.Items)
	}

	// PATCH operations the controller uses.
	upd := must(c.UpdateRestApi(ctx, &apigateway.UpdateRestApiInput{RestApiId: id, PatchOperations: []types.PatchOperation{
		op(types.OpReplace, "/description", "new description"), op(types.OpAdd, "/binaryMediaTypes/image~1jpeg", ""),
	}}))(t)
	if *upd.Description != "new description" || len(upd.BinaryMediaTypes) != 1 || upd.BinaryMediaTypes[0] != "image/jpeg" {
		t.Errorf("UpdateRestApi: %+v", upd)
	}
	um := must(c.UpdateMethod(ctx, &apigateway.UpdateMethodInput{RestApiId: id, ResourceId: resize.Id, HttpMethod: aws.String("POST"), PatchOperations: []types.PatchOperation{
		op(types.OpReplace, "/requestValidatorId", *val.Id), op(types.OpRemove, "/requestParameters/method.request.header.X-Trace", ""),
		op(types.OpAdd, "/requestModels/text~1plain", "Empty"),
	}}))(t)
	if len(um.RequestParameters) != 0 || um.RequestModels["text/plain"] != "Empty" {
		t.Errorf("UpdateMethod: %+v", um)
	}
	ui := must(c.UpdateIntegration(ctx, &apigateway.UpdateIntegrationInput{RestApiId: id, ResourceId: resize.Id, HttpMethod: aws.String("POST"), PatchOperations: []types.PatchOperation{
		op(types.OpReplace, "/requestTemplates/application~1json", "{}"), op(types.OpReplace, "/credentials", "arn:aws:iam::000000000000:role/Other"),
		op(types.OpReplace, "/passthroughBehavior", "WHEN_NO_TEMPLATES"), op(types.OpReplace, "/timeoutInMillis", "5000"),
	}}))(t)
	if ui.RequestTemplates["application/json"] != "{}" || *ui.Credentials != "arn:aws:iam::000000000000:role/Other" || ui.TimeoutInMillis != 5000 {
		t.Errorf("UpdateIntegration: %+v", ui)
	}
	if len(ui.IntegrationResponses) != 1 {
		t.Errorf("UpdateIntegration must keep integration responses: %+v", ui.IntegrationResponses)
	}
	_, err = c.UpdateIntegration(ctx, &apigateway.UpdateIntegrationInput{RestApiId: id, ResourceId: resize.Id, HttpMethod: aws.String("POST"), PatchOperations: []types.PatchOperation{
		op(types.OpReplace, "/nonsense", "x"),
	}})
	wantErr[*types.BadRequestException](t, err, "/nonsense")
	_, err = c.UpdateIntegration(ctx, &apigateway.UpdateIntegrationInput{RestApiId: id, ResourceId: resize.Id, HttpMethod: aws.String("POST"), PatchOperations: []types.PatchOperation{
		op(types.OpReplace, "/timeoutInMillis", "90000"),
	}})
	wantErr[*types.BadRequestException](t, err, "Timeout")

	dep := must(c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: id, StageName: aws.String("prod"), Variables: map[string]string{"a": "1"}}))(t)
	st := must(c.GetStage(ctx, &apigateway.GetStageInput{RestApiId: id, StageName: aws.String("prod")}))(t)
	if *st.DeploymentId != *dep.Id || st.Variables["a"] != "1" {
		t.Errorf("CreateDeployment with stageName must create the stage: %+v", st)
	}
	_, err = c.CreateStage(ctx, &apigateway.CreateStageInput{RestApiId: id, StageName: aws.String("prod"), DeploymentId: dep.Id})
	wantErr[*types.ConflictException](t, err, "")
	dep2 := must(c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: id, Description: aws.String("second")}))(t)
	us := must(c.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: id, StageName: aws.String("prod"), PatchOperations: []types.PatchOperation{
		op(types.OpReplace, "/deploymentId", *dep2.Id), op(types.OpReplace, "/variables/b", "2"), op(types.OpRemove, "/variables/a", ""),
		op(types.OpReplace, "/*/*/metrics/enabled", "true"), op(types.OpReplace, "/description", "production"),
	}}))(t)
	if *us.DeploymentId != *dep2.Id || us.Variables["b"] != "2" || us.Variables["a"] != "" || !us.MethodSettings["*/*"].MetricsEnabled || *us.Description != "production" {
		t.Errorf("UpdateStage: %+v", us)
	}
	_, err = c.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: id, StageName: aws.String("prod"), PatchOperations: []types.PatchOperation{
		op(types.OpReplace, "/variables/b", "has space"),
	}})
	wantErr[*types.BadRequestException](t, err, "Stage variable value")
	_, err = c.DeleteDeployment(ctx, &apigateway.DeleteDeploymentInput{RestApiId: id, DeploymentId: dep2.Id})
	wantErr[*types.BadRequestException](t, err, "Active stages")
	must(c.DeleteDeployment(ctx, &apigateway.DeleteDeploymentInput{RestApiId: id, DeploymentId: dep.Id}))(t)
	deps := must(c.GetDeployments(ctx, &apigateway.GetDeploymentsInput{RestApiId: id}))(t)
	if len(deps.Items) != 1 || *deps.Items[0].Id != *dep2.Id {
		t.Errorf("GetDeployments: %+v", deps.Items)
	}
	stages := must(c.GetStages(ctx, &apigateway.GetStagesInput{RestApiId: id}))(t)
	if len(stages.Item) != 1 {
		t.Errorf("GetStages: %+v", stages.Item)
	}

	// Tags on the API and on the stage, by ARN.
	apiARN := "arn:aws:apigateway:" + testRegion + "::/restapis/" + *id
	must(c.TagResource(ctx, &apigateway.TagResourceInput{ResourceArn: aws.String(apiARN), Tags: map[string]string{"team": "media"}}))(t)
	tags := must(c.GetTags(ctx, &apigateway.GetTagsInput{ResourceArn: aws.String(apiARN)}))(t)
	if tags.Tags["team"] != "media" || tags.Tags["resize.dev/owner"] != "default/demo" {
		t.Errorf("GetTags: %v", tags.Tags)
	}
	must(c.UntagResource(ctx, &apigateway.UntagResourceInput{ResourceArn: aws.String(apiARN), TagKeys: []string{"team"}}))(t)
	stageARN := apiARN + "/stages/prod"
	must(c.TagResource(ctx, &apigateway.TagResourceInput{ResourceArn: aws.String(stageARN), Tags: map[string]string{"env": "prod"}}))(t)
	st = must(c.GetStage(ctx, &apigateway.GetStageInput{RestApiId: id, StageName: aws.String("prod")}))(t)
	if st.Tags["env"] != "prod" {
		t.Errorf("stage tags: %v", st.Tags)
	}
	a2 := must(c.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: id}))(t)
	if _, ok := a2.Tags["team"]; ok {
		t.Errorf("UntagResource left the tag: %v", a2.Tags)
	}
	// Other partitions name the same API.
	must(c.TagResource(ctx, &apigateway.TagResourceInput{ResourceArn: aws.String("arn:aws-cn:apigateway:" + testRegion + "::/restapis/" + *id), Tags: map[string]string{"p": "cn"}}))(t)
	_, err = c.TagResource(ctx, &apigateway.TagResourceInput{ResourceArn: aws.String(apiARN), Tags: map[string]string{"aws:reserved": "x"}})
	wantErr[*types.BadRequestException](t, err, "aws:")

	// Models in use cannot be deleted; others can.
	_, err = c.DeleteModel(ctx, &apigateway.DeleteModelInput{RestApiId: id, ModelName: aws.String("ResizeRequest")})
	wantErr[*types.ConflictException](t, err, "referenced")
	must(c.DeleteModel(ctx, &apigateway.DeleteModelInput{RestApiId: id, ModelName: aws.String("Error")}))(t)

	// Deletes, then NotFound.
	must(c.DeleteIntegrationResponse(ctx, &apigateway.DeleteIntegrationResponseInput{RestApiId: id, ResourceId: resize.Id, HttpMethod: aws.String("POST"), StatusCode: aws.String("200")}))(t)
	must(c.DeleteMethodResponse(ctx, &apigateway.DeleteMethodResponseInput{RestApiId: id, ResourceId: resize.Id, HttpMethod: aws.String("POST"), StatusCode: aws.String("200")}))(t)
	must(c.DeleteIntegration(ctx, &apigateway.DeleteIntegrationInput{RestApiId: id, ResourceId: resize.Id, HttpMethod: aws.String("POST")}))(t)
	must(c.DeleteMethod(ctx, &apigateway.DeleteMethodInput{RestApiId: id, ResourceId: resize.Id, HttpMethod: aws.String("POST")}))(t)
	_, err = c.GetMethod(ctx, &apigateway.GetMethodInput{RestApiId: id, ResourceId: resize.Id, HttpMethod: aws.String("POST")})
	wantErr[*types.NotFoundException](t, err, "Method")
	must(c.DeleteResource(ctx, &apigateway.DeleteResourceInput{RestApiId: id, ResourceId: resize.Id}))(t)
	_, err = c.DeleteResource(ctx, &apigateway.DeleteResourceInput{RestApiId: id, ResourceId: api.RootResourceId})
	wantErr[*types.BadRequestException](t, err, "root")
	must(c.DeleteStage(ctx, &apigateway.DeleteStageInput{RestApiId: id, StageName: aws.String("prod")}))(t)
	must(c.DeleteRestApi(ctx, &apigateway.DeleteRestApiInput{RestApiId: id}))(t)
	_, err = c.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: id})
	wantErr[*types.NotFoundException](t, err, "Invalid API identifier")
}

func TestValidatorsAndModelsCRUD(t *testing.T) {
	ctx := context.Background()
	_, _, c := newTestServer(t, nil)
	api := must(c.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("a")}))(t)
	v := must(c.CreateRequestValidator(ctx, &apigateway.CreateRequestValidatorInput{RestApiId: api.Id, Name: aws.String("all"), ValidateRequestBody: true, ValidateRequestParameters: true}))(t)
	v2 := must(c.UpdateRequestValidator(ctx, &apigateway.UpdateRequestValidatorInput{RestApiId: api.Id, RequestValidatorId: v.Id, PatchOperations: []types.PatchOperation{
		op(types.OpReplace, "/validateRequestParameters", "false"), op(types.OpReplace, "/name", "body-only"),
	}}))(t)
	if v2.ValidateRequestParameters || !v2.ValidateRequestBody || *v2.Name != "body-only" {
		t.Errorf("UpdateRequestValidator: %+v", v2)
	}
	_, err := c.UpdateRequestValidator(ctx, &apigateway.UpdateRequestValidatorInput{RestApiId: api.Id, RequestValidatorId: v.Id, PatchOperations: []types.PatchOperation{
		op(types.OpReplace, "/validateRequestBody", "maybe"),
	}})
	wantErr[*types.BadRequestException](t, err, "boolean")
	list := must(c.GetRequestValidators(ctx, &apigateway.GetRequestValidatorsInput{RestApiId: api.Id}))(t)
	if len(list.Items) != 1 {
		t.Errorf("GetRequestValidators: %+v", list.Items)
	}
	must(c.DeleteRequestValidator(ctx, &apigateway.DeleteRequestValidatorInput{RestApiId: api.Id, RequestValidatorId: v.Id}))(t)
	_, err = c.GetRequestValidator(ctx, &apigateway.GetRequestValidatorInput{RestApiId: api.Id, RequestValidatorId: v.Id})
	wantErr[*types.NotFoundException](t, err, "")

	m := must(c.UpdateModel(ctx, &apigateway.UpdateModelInput{RestApiId: api.Id, ModelName: aws.String("Empty"), PatchOperations: []types.PatchOperation{
		op(types.OpReplace, "/description", "d"), op(types.OpReplace, "/schema", `{"type":"object"}`),
	}}))(t)
	if *m.Description != "d" || *m.Schema != `{"type":"object"}` {
		t.Errorf("UpdateModel: %+v", m)
	}
	// One model may refer to another by its API Gateway URL.
	ref := `{"type":"object","properties":{"e":{"$ref":"https://apigateway.amazonaws.com/restapis/` + *api.Id + `/models/Empty"}}}`
	must(c.CreateModel(ctx, &apigateway.CreateModelInput{RestApiId: api.Id, Name: aws.String("Outer"), ContentType: aws.String("application/json"), Schema: aws.String(ref)}))(t)
	_, err = c.GetModel(ctx, &apigateway.GetModelInput{RestApiId: api.Id, ModelName: aws.String("Missing")})
	wantErr[*types.NotFoundException](t, err, "Missing")
}

func TestGetRestApisPagination(t *testing.T) {
	ctx := context.Background()
	_, _, c := newTestServer(t, nil)
	for i := 0; i < 5; i++ {
		must(c.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("api")}))(t)
	}
	var n, pages int
	p := apigateway.NewGetRestApisPaginator(c, &apigateway.GetRestApisInput{Limit: aws.Int32(2)})
	for p.HasMorePages() {
		out := must(p.NextPage(ctx))(t)
		n += len(out.Items)
		pages++
	}
	if n != 5 || pages != 3 {
		t.Errorf("got %d APIs in %d pages, want 5 in 3", n, pages)
	}
}
