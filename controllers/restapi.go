package controllers

import (
	"context"
	"fmt"
	"reflect"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	apigwtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	corev1 "k8s.io/api/core/v1"
)

// RestAPIAPI is what the controller uses of API Gateway (REST, v1).
type RestAPIAPI interface {
	GetRestApi(ctx context.Context, in *apigateway.GetRestApiInput, opts ...func(*apigateway.Options)) (*apigateway.GetRestApiOutput, error)
	GetRestApis(ctx context.Context, in *apigateway.GetRestApisInput, opts ...func(*apigateway.Options)) (*apigateway.GetRestApisOutput, error)
	CreateRestApi(ctx context.Context, in *apigateway.CreateRestApiInput, opts ...func(*apigateway.Options)) (*apigateway.CreateRestApiOutput, error)
	UpdateRestApi(ctx context.Context, in *apigateway.UpdateRestApiInput, opts ...func(*apigateway.Options)) (*apigateway.UpdateRestApiOutput, error)
	DeleteRestApi(ctx context.Context, in *apigateway.DeleteRestApiInput, opts ...func(*apigateway.Options)) (*apigateway.DeleteRestApiOutput, error)
	TagResource(ctx context.Context, in *apigateway.TagResourceInput, opts ...func(*apigateway.Options)) (*apigateway.TagResourceOutput, error)
	GetResources(ctx context.Context, in *apigateway.GetResourcesInput, opts ...func(*apigateway.Options)) (*apigateway.GetResourcesOutput, error)
	CreateResource(ctx context.Context, in *apigateway.CreateResourceInput, opts ...func(*apigateway.Options)) (*apigateway.CreateResourceOutput, error)
	DeleteResource(ctx context.Context, in *apigateway.DeleteResourceInput, opts ...func(*apigateway.Options)) (*apigateway.DeleteResourceOutput, error)
	GetModel(ctx context.Context, in *apigateway.GetModelInput, opts ...func(*apigateway.Options)) (*apigateway.GetModelOutput, error)
	CreateModel(ctx context.Context, in *apigateway.CreateModelInput, opts ...func(*apigateway.Options)) (*apigateway.CreateModelOutput, error)
	UpdateModel(ctx context.Context, in *apigateway.UpdateModelInput, opts ...func(*apigateway.Options)) (*apigateway.UpdateModelOutput, error)
	GetRequestValidators(ctx context.Context, in *apigateway.GetRequestValidatorsInput, opts ...func(*apigateway.Options)) (*apigateway.GetRequestValidatorsOutput, error)
	CreateRequestValidator(ctx context.Context, in *apigateway.CreateRequestValidatorInput, opts ...func(*apigateway.Options)) (*apigateway.CreateRequestValidatorOutput, error)
	UpdateRequestValidator(ctx context.Context, in *apigateway.UpdateRequestValidatorInput, opts ...func(*apigateway.Options)) (*apigateway.UpdateRequestValidatorOutput, error)
	GetMethod(ctx context.Context, in *apigateway.GetMethodInput, opts ...func(*apigateway.Options)) (*apigateway.GetMethodOutput, error)
	PutMethod(ctx context.Context, in *apigateway.PutMethodInput, opts ...func(*apigateway.Options)) (*apigateway.PutMethodOutput, error)
	DeleteMethod(ctx context.Context, in *apigateway.DeleteMethodInput, opts ...func(*apigateway.Options)) (*apigateway.DeleteMethodOutput, error)
	PutIntegration(ctx context.Context, in *apigateway.PutIntegrationInput, opts ...func(*apigateway.Options)) (*apigateway.PutIntegrationOutput, error)
	PutMethodResponse(ctx context.Context, in *apigateway.PutMethodResponseInput, opts ...func(*apigateway.Options)) (*apigateway.PutMethodResponseOutput, error)
	DeleteMethodResponse(ctx context.Context, in *apigateway.DeleteMethodResponseInput, opts ...func(*apigateway.Options)) (*apigateway.DeleteMethodResponseOutput, error)
	PutIntegrationResponse(ctx context.Context, in *apigateway.PutIntegrationResponseInput, opts ...func(*apigateway.Options)) (*apigateway.PutIntegrationResponseOutput, error)
	GetStage(ctx context.Context, in *apigateway.GetStageInput, opts ...func(*apigateway.Options)) (*apigateway.GetStageOutput, error)
	CreateStage(ctx context.Context, in *apigateway.CreateStageInput, opts ...func(*apigateway.Options)) (*apigateway.CreateStageOutput, error)
	UpdateStage(ctx context.Context, in *apigateway.UpdateStageInput, opts ...func(*apigateway.Options)) (*apigateway.UpdateStageOutput, error)
	CreateDeployment(ctx context.Context, in *apigateway.CreateDeploymentInput, opts ...func(*apigateway.Options)) (*apigateway.CreateDeploymentOutput, error)
}

const (
	jsonContentType = "application/json"
	postMethod      = "POST"
)

// reconcileAPI is the fifth phase: the API role's policy (it names the state
// machine), then the REST API, its resource, request model and validator,
// POST method, integration and responses. What it changes is deployed by
// the next phase.
func (r *ResizePipelineReconciler) reconcileAPI(ctx context.Context, s *scope) (phaseOutcome, error) {
	res := &s.rp.Status.Resources
	if err := r.ensureRolePolicy(ctx, s, s.d.APIRole, APIPolicy(res.StateMachineARN)); err != nil {
		return phaseOutcome{}, err
	}
	want := s.d.DesiredAPI(res.StateMachineARN, res.APIRoleARN)
	s.api = want
	c := s.aws.APIGateway

	id, err := ensureRestAPI(ctx, s)
	if err != nil {
		return phaseOutcome{}, err
	}
	res.RestAPIID = id

	resourceID, err := ensureResource(ctx, s, id, want.Path)
	if err != nil {
		return phaseOutcome{}, err
	}

	// Request model.
	model, err := c.GetModel(ctx, &apigateway.GetModelInput{RestApiId: aws.String(id), ModelName: aws.String(want.ModelName)})
	switch {
	case isCode(err, "NotFoundException"):
		if _, err := c.CreateModel(ctx, &apigateway.CreateModelInput{
			RestApiId: aws.String(id), Name: aws.String(want.ModelName), ContentType: aws.String(jsonContentType),
			Schema: aws.String(want.ModelSchema), Description: aws.String("A resize request"),
		}); err != nil {
			return phaseOutcome{}, err
		}
		s.apiChanged = true
	case err != nil:
		return phaseOutcome{}, err
	case !SameJSON(aws.ToString(model.Schema), want.ModelSchema):
		if _, err := c.UpdateModel(ctx, &apigateway.UpdateModelInput{
			RestApiId: aws.String(id), ModelName: aws.String(want.ModelName),
			PatchOperations: []apigwtypes.PatchOperation{{Op: apigwtypes.OpReplace, Path: aws.String("/schema"), Value: aws.String(want.ModelSchema)}},
		}); err != nil {
			return phaseOutcome{}, err
		}
		s.apiChanged = true
	}

	validatorID, err := ensureValidator(ctx, s, id, want.ValidatorName)
	if err != nil {
		return phaseOutcome{}, err
	}
	if err := ensureMethod(ctx, s, id, resourceID, validatorID, want); err != nil {
		return phaseOutcome{}, err
	}
	if s.apiChanged {
		s.event(corev1.EventTypeNormal, ReasonUpdated, "UpdateRestApi", "Configured POST /%s of REST API %s (%s)", want.Path, s.d.APIName, id)
	}
	return phaseOutcome{}, nil
}

// ensureRestAPI finds the pipeline's REST API, by the ID in status or (status
// lost) by name and owner tag, since API names are not unique; or creates it.
func ensureRestAPI(ctx context.Context, s *scope) (string, error) {
	c := s.aws.APIGateway
	if id := s.rp.Status.Resources.RestAPIID; id != "" {
		out, err := c.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: aws.String(id)})
		switch {
		case err == nil && out.Tags[OwnerTagKey] == s.d.Owner:
			if aws.ToString(out.Name) != s.d.APIName {
				if _, err := c.UpdateRestApi(ctx, &apigateway.UpdateRestApiInput{
					RestApiId:       aws.String(id),
					PatchOperations: []apigwtypes.PatchOperation{{Op: apigwtypes.OpReplace, Path: aws.String("/name"), Value: aws.String(s.d.APIName)}},
				}); err != nil {
					return "", err
				}
				s.event(corev1.EventTypeNormal, ReasonUpdated, "UpdateRestApi", "Renamed REST API %s to %s", id, s.d.APIName)
			}
			if missing := missingTags(s.d.Tags, out.Tags); len(missing) > 0 {
				if err := tagRestAPI(ctx, s, id, missing); err != nil {
					return "", err
				}
			}
			return id, nil
		case err == nil:
			// The ID in status is not ours (any more): look up by name.
		case isCode(err, "NotFoundException"):
		default:
			return "", err
		}
	}
	p := apigateway.NewGetRestApisPaginator(c, &apigateway.GetRestApisInput{Limit: aws.Int32(500)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", err
		}
		for _, a := range page.Items {
			if aws.ToString(a.Name) == s.d.APIName && a.Tags[OwnerTagKey] == s.d.Owner {
				if missing := missingTags(s.d.Tags, a.Tags); len(missing) > 0 {
					if err := tagRestAPI(ctx, s, aws.ToString(a.Id), missing); err != nil {
						return "", err
					}
				}
				return aws.ToString(a.Id), nil
			}
		}
	}
	out, err := c.CreateRestApi(ctx, &apigateway.CreateRestApiInput{
		Name:                  aws.String(s.d.APIName),
		Description:           aws.String("Starts image resizes for ResizePipeline " + s.d.Owner),
		EndpointConfiguration: &apigwtypes.EndpointConfiguration{Types: []apigwtypes.EndpointType{apigwtypes.EndpointTypeRegional}},
		Tags:                  s.d.Tags,
	})
	if err != nil {
		return "", err
	}
	id := aws.ToString(out.Id)
	// Record at once: a later failure in this phase must not lose the ID.
	s.rp.Status.Resources.RestAPIID = id
	s.apiChanged = true
	s.event(corev1.EventTypeNormal, ReasonCreated, "CreateRestApi", "Created REST API %s (%s)", s.d.APIName, id)
	return id, nil
}

func (s *scope) restAPIARN(id string) string {
	return fmt.Sprintf("arn:%s:apigateway:%s::/restapis/%s", s.d.Partition.ID, s.d.Region, id)
}

func tagRestAPI(ctx context.Context, s *scope, id string, tags map[string]string) error {
	if _, err := s.aws.APIGateway.TagResource(ctx, &apigateway.TagResourceInput{ResourceArn: aws.String(s.restAPIARN(id)), Tags: tags}); err != nil {
		return err
	}
	s.event(corev1.EventTypeNormal, ReasonUpdated, "TagResource", "Updated the tags of REST API %s", id)
	return nil
}

// ensureResource makes /<path> exist under the root and removes any other
// resource: the whole API belongs to the pipeline, so a path renamed in the
// spec leaves nothing behind.
func ensureResource(ctx context.Context, s *scope, apiID, path string) (string, error) {
	c := s.aws.APIGateway
	var rootID, resourceID string
	var stray []string
	p := apigateway.NewGetResourcesPaginator(c, &apigateway.GetResourcesInput{RestApiId: aws.String(apiID), Limit: aws.Int32(500)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", err
		}
		for _, res := range page.Items {
			switch aws.ToString(res.Path) {
			case "/":
				rootID = aws.ToString(res.Id)
			case "/" + path:
				resourceID = aws.ToString(res.Id)
			default:
				stray = append(stray, aws.ToString(res.Id))
			}
		}
	}
	if rootID == "" {
		return "", fmt.Errorf("REST API %s has no root resource", apiID)
	}
	for _, id := range stray {
		// Deleting a parent deletes its children; those then are not found.
		if _, err := c.DeleteResource(ctx, &apigateway.DeleteResourceInput{RestApiId: aws.String(apiID), ResourceId: aws.String(id)}); err != nil &&
			!isCode(err, "NotFoundException") {
			return "", err
		}
		s.apiChanged = true
	}
	if resourceID != "" {
		return resourceID, nil
	}
	out, err := c.CreateResource(ctx, &apigateway.CreateResourceInput{
		RestApiId: aws.String(apiID), ParentId: aws.String(rootID), PathPart: aws.String(path),
	})
	if err != nil {
		return "", err
	}
	s.apiChanged = true
	return aws.ToString(out.Id), nil
}

// ensureValidator makes the body validator exist and returns its ID.
func ensureValidator(ctx context.Context, s *scope, apiID, name string) (string, error) {
	c := s.aws.APIGateway
	out, err := c.GetRequestValidators(ctx, &apigateway.GetRequestValidatorsInput{RestApiId: aws.String(apiID), Limit: aws.Int32(500)})
	if err != nil {
		return "", err
	}
	for _, v := range out.Items {
		if aws.ToString(v.Name) != name {
			continue
		}
		if !v.ValidateRequestBody || v.ValidateRequestParameters {
			if _, err := c.UpdateRequestValidator(ctx, &apigateway.UpdateRequestValidatorInput{
				RestApiId: aws.String(apiID), RequestValidatorId: v.Id,
				PatchOperations: []apigwtypes.PatchOperation{
					{Op: apigwtypes.OpReplace, Path: aws.String("/validateRequestBody"), Value: aws.String("true")},
					{Op: apigwtypes.OpReplace, Path: aws.String("/validateRequestParameters"), Value: aws.String("false")},
				},
			}); err != nil {
				return "", err
			}
			s.apiChanged = true
		}
		return aws.ToString(v.Id), nil
	}
	created, err := c.CreateRequestValidator(ctx, &apigateway.CreateRequestValidatorInput{
		RestApiId: aws.String(apiID), Name: aws.String(name), ValidateRequestBody: true, ValidateRequestParameters: false,
	})
	if err != nil {
		return "", err
	}
	s.apiChanged = true
	return aws.ToString(created.Id), nil
}

// ensureMethod converges POST with its integration and responses. A method
// request that differs is deleted and put again (API Gateway has no PUT
// over an existing method); an integration that differs is put again, which
// drops its responses, so they follow.
func ensureMethod(ctx context.Context, s *scope, apiID, resourceID, validatorID string, want APISpec) error {
	c := s.aws.APIGateway
	ids := func() (*string, *string) { return aws.String(apiID), aws.String(resourceID) }
	wantModels := map[string]string{jsonContentType: want.ModelName}

	m, err := c.GetMethod(ctx, &apigateway.GetMethodInput{RestApiId: aws.String(apiID), ResourceId: aws.String(resourceID), HttpMethod: aws.String(postMethod)})
	if err != nil && !isCode(err, "NotFoundException") {
		return err
	}
	if err == nil && (aws.ToString(m.AuthorizationType) != "NONE" || aws.ToString(m.RequestValidatorId) != validatorID ||
		!reflect.DeepEqual(m.RequestModels, wantModels) || aws.ToBool(m.ApiKeyRequired)) {
		a, r := ids()
		if _, err := c.DeleteMethod(ctx, &apigateway.DeleteMethodInput{RestApiId: a, ResourceId: r, HttpMethod: aws.String(postMethod)}); err != nil {
			return err
		}
		m = nil // deleted: put again below
	}
	if m == nil {
		a, r := ids()
		if _, err := c.PutMethod(ctx, &apigateway.PutMethodInput{
			RestApiId: a, ResourceId: r, HttpMethod: aws.String(postMethod),
			AuthorizationType:  aws.String("NONE"),
			RequestValidatorId: aws.String(validatorID),
			RequestModels:      wantModels,
		}); err != nil {
			return err
		}
		s.apiChanged = true
		m = &apigateway.GetMethodOutput{}
	}

	var integrationResponses map[string]apigwtypes.IntegrationResponse
	if in := m.MethodIntegration; in == nil || !integrationMatches(in, want) {
		a, r := ids()
		if _, err := c.PutIntegration(ctx, &apigateway.PutIntegrationInput{
			RestApiId: a, ResourceId: r, HttpMethod: aws.String(postMethod),
			Type:                  apigwtypes.IntegrationTypeAws,
			IntegrationHttpMethod: aws.String(postMethod),
			Uri:                   aws.String(want.IntegrationURI),
			Credentials:           aws.String(want.Credentials),
			PassthroughBehavior:   aws.String("NEVER"),
			RequestTemplates:      map[string]string{jsonContentType: want.RequestTemplate},
		}); err != nil {
			return err
		}
		s.apiChanged = true
	} else {
		integrationResponses = in.IntegrationResponses
	}

	for _, resp := range want.Responses {
		if _, ok := m.MethodResponses[resp.StatusCode]; !ok {
			a, r := ids()
			if _, err := c.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{
				RestApiId: a, ResourceId: r, HttpMethod: aws.String(postMethod), StatusCode: aws.String(resp.StatusCode),
			}); err != nil {
				return err
			}
			s.apiChanged = true
		}
		if ir, ok := integrationResponses[resp.StatusCode]; ok && aws.ToString(ir.SelectionPattern) == resp.SelectionPattern {
			continue
		}
		in := &apigateway.PutIntegrationResponseInput{
			RestApiId: aws.String(apiID), ResourceId: aws.String(resourceID), HttpMethod: aws.String(postMethod),
			StatusCode: aws.String(resp.StatusCode),
		}
		if resp.SelectionPattern != "" {
			in.SelectionPattern = aws.String(resp.SelectionPattern)
		}
		if _, err := c.PutIntegrationResponse(ctx, in); err != nil {
			return err
		}
		s.apiChanged = true
	}
	return nil
}

func integrationMatches(in *apigwtypes.Integration, want APISpec) bool {
	return in.Type == apigwtypes.IntegrationTypeAws &&
		aws.ToString(in.HttpMethod) == postMethod &&
		aws.ToString(in.Uri) == want.IntegrationURI &&
		aws.ToString(in.Credentials) == want.Credentials &&
		aws.ToString(in.PassthroughBehavior) == "NEVER" &&
		in.RequestTemplates[jsonContentType] == want.RequestTemplate &&
		len(in.RequestTemplates) == 1
}

// reconcileDeployment is the last phase: the stage serves a deployment of
// the current API. The API's hash lives in a stage variable, so the steady
// state costs one GetStage; a new deployment is made only when the hash
// differs or the API phase changed something (drift repaired).
func (r *ResizePipelineReconciler) reconcileDeployment(ctx context.Context, s *scope) (phaseOutcome, error) {
	c := s.aws.APIGateway
	id := s.rp.Status.Resources.RestAPIID
	hash := s.api.Hash()
	stage, err := c.GetStage(ctx, &apigateway.GetStageInput{RestApiId: aws.String(id), StageName: aws.String(s.d.Stage)})
	missing := isCode(err, "NotFoundException")
	if err != nil && !missing {
		return phaseOutcome{}, err
	}
	deploymentID := ""
	if !missing {
		deploymentID = aws.ToString(stage.DeploymentId)
	}
	if missing || s.apiChanged || stage.Variables[apiHashVariable] != hash || deploymentID == "" {
		dep, err := c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{
			RestApiId:   aws.String(id),
			Description: aws.String("resize.dev api " + hash),
		})
		if err != nil {
			return phaseOutcome{}, err
		}
		deploymentID = aws.ToString(dep.Id)
		if missing {
			if _, err := c.CreateStage(ctx, &apigateway.CreateStageInput{
				RestApiId: aws.String(id), StageName: aws.String(s.d.Stage), DeploymentId: aws.String(deploymentID),
				Variables: map[string]string{apiHashVariable: hash},
				Tags:      s.d.Tags,
			}); err != nil {
				return phaseOutcome{}, err
			}
		} else {
			if _, err := c.UpdateStage(ctx, &apigateway.UpdateStageInput{
				RestApiId: aws.String(id), StageName: aws.String(s.d.Stage),
				PatchOperations: []apigwtypes.PatchOperation{
					{Op: apigwtypes.OpReplace, Path: aws.String("/deploymentId"), Value: aws.String(deploymentID)},
					{Op: apigwtypes.OpReplace, Path: aws.String("/variables/" + apiHashVariable), Value: aws.String(hash)},
				},
			}); err != nil {
				return phaseOutcome{}, err
			}
		}
		s.event(corev1.EventTypeNormal, ReasonDeployed, "CreateDeployment", "Deployed REST API %s to stage %s (deployment %s)", id, s.d.Stage, deploymentID)
	}
	s.rp.Status.Resources.DeploymentID = deploymentID
	s.rp.Status.Endpoint = s.d.Endpoint(id, r.EndpointURL)
	return phaseOutcome{message: "POST " + s.rp.Status.Endpoint}, nil
}

// deleteRestAPI removes the pipeline's REST API with its stage and
// deployments.
func (r *ResizePipelineReconciler) deleteRestAPI(ctx context.Context, s *scope) error {
	c := s.aws.APIGateway
	var ids []string
	if id := s.rp.Status.Resources.RestAPIID; id != "" {
		out, err := c.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: aws.String(id)})
		if err != nil && !isCode(err, "NotFoundException") {
			return err
		}
		if err == nil && out.Tags[OwnerTagKey] == s.d.Owner {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		p := apigateway.NewGetRestApisPaginator(c, &apigateway.GetRestApisInput{Limit: aws.Int32(500)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			for _, a := range page.Items {
				if a.Tags[OwnerTagKey] == s.d.Owner {
					ids = append(ids, aws.ToString(a.Id))
				}
			}
		}
	}
	for _, id := range ids {
		if _, err := c.DeleteRestApi(ctx, &apigateway.DeleteRestApiInput{RestApiId: aws.String(id)}); err != nil && !isCode(err, "NotFoundException") {
			return err
		}
		s.event(corev1.EventTypeNormal, ReasonDeleted, "DeleteRestApi", "Deleted REST API %s", id)
	}
	return nil
}
