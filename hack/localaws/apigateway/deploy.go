package apigateway

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
)

var modelNameRE = regexp.MustCompile(`^[a-zA-Z0-9]+$`)

func (s *Server) routeModels(c *call, a *api, segs []string) (int, any, error) {
	m := c.r.Method
	if len(segs) == 0 {
		switch m {
		case http.MethodGet:
			out := make([]*Model, 0, len(a.models))
			for _, k := range sortedKeys(a.models) {
				out = append(out, a.models[k])
			}
			return list(c, out)
		case http.MethodPost:
			var in Model
			if err := c.decode(&in); err != nil {
				return 0, nil, err
			}
			if !modelNameRE.MatchString(in.Name) {
				return 0, nil, badRequest("Model name must be non-empty and alphanumeric: %s", in.Name)
			}
			if in.ContentType == "" {
				return 0, nil, badRequest("Content type must be non-empty")
			}
			if _, ok := a.models[in.Name]; ok {
				return 0, nil, conflict("Model name already exists for this REST API")
			}
			if err := checkSchema(a, in.Name, in.Schema); err != nil {
				return 0, nil, err
			}
			in.ID = newID(6)
			a.models[in.Name] = &in
			return http.StatusCreated, &in, nil
		}
		return 0, nil, unknownOperation(c)
	}
	if len(segs) != 1 {
		return 0, nil, unknownOperation(c)
	}
	model, ok := a.models[segs[0]]
	if !ok {
		return 0, nil, notFound("Invalid model name specified: %s", segs[0])
	}
	switch m {
	case http.MethodGet:
		return http.StatusOK, model, nil
	case http.MethodPatch:
		out := *model
		err := applyPatch(c, func(op patchOp, path []string) error {
			name, ok := onePath(path)
			if !ok {
				return invalidPath(op)
			}
			switch name {
			case "schema":
				return patchString(op, &out.Schema)
			case "description":
				return patchString(op, &out.Description)
			}
			return invalidPath(op)
		})
		if err != nil {
			return 0, nil, err
		}
		if err := checkSchema(a, out.Name, out.Schema); err != nil {
			return 0, nil, err
		}
		*model = out
		return http.StatusOK, model, nil
	case http.MethodDelete:
		if where := modelUse(a, model.Name); where != "" {
			return 0, nil, conflict("Cannot delete model '%s', is referenced in %s", model.Name, where)
		}
		delete(a.models, model.Name)
		return http.StatusAccepted, nil, nil
	}
	return 0, nil, unknownOperation(c)
}

// checkSchema accepts what AWS accepts as a model: empty, or a JSON object our validator compiles.
func checkSchema(a *api, name, schema string) error {
	if strings.TrimSpace(schema) == "" {
		return nil
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(schema), &v); err != nil {
		return badRequest("Invalid model specified: Validation Result: warnings : [], errors : [Invalid model schema specified. Unsupported keyword(s): [] or invalid JSON: %s]", err.Error())
	}
	if _, err := compileSchemaFor(a.ID, name, schema, a.models); err != nil {
		return badRequest("Invalid model specified: Validation Result: warnings : [], errors : [Invalid model schema specified: %s]", err.Error())
	}
	return nil
}

// modelUse names the first method request or method response that refers to a model.
func modelUse(a *api, name string) string {
	for _, r := range a.resources {
		for hm, m := range r.ResourceMethods {
			for _, n := range m.RequestModels {
				if n == name {
					return "method request: " + r.Path + "/" + hm
				}
			}
			for code, mr := range m.MethodResponses {
				for _, n := range mr.ResponseModels {
					if n == name {
						return "method response: " + r.Path + "/" + hm + "/" + code
					}
				}
			}
		}
	}
	return ""
}

func (s *Server) routeValidators(c *call, a *api, segs []string) (int, any, error) {
	m := c.r.Method
	if len(segs) == 0 {
		switch m {
		case http.MethodGet:
			out := make([]*RequestValidator, 0, len(a.validators))
			for _, v := range a.validators {
				out = append(out, v)
			}
			sort.Slice(out, func(i, j int) bool {
				if out[i].Name != out[j].Name {
					return out[i].Name < out[j].Name
				}
				return out[i].ID < out[j].ID
			})
			return list(c, out)
		case http.MethodPost:
			var in RequestValidator
			if err := c.decode(&in); err != nil {
				return 0, nil, err
			}
			in.ID = newID(6)
			a.validators[in.ID] = &in
			return http.StatusCreated, &in, nil
		}
		return 0, nil, unknownOperation(c)
	}
	if len(segs) != 1 {
		return 0, nil, unknownOperation(c)
	}
	v, ok := a.validators[segs[0]]
	if !ok {
		return 0, nil, notFound("Invalid Request Validator identifier specified")
	}
	switch m {
	case http.MethodGet:
		return http.StatusOK, v, nil
	case http.MethodPatch:
		out := *v
		err := applyPatch(c, func(op patchOp, path []string) error {
			name, ok := onePath(path)
			if !ok {
				return invalidPath(op)
			}
			switch name {
			case "name":
				return patchString(op, &out.Name)
			case "validateRequestBody":
				return patchBool(op, &out.ValidateRequestBody)
			case "validateRequestParameters":
				return patchBool(op, &out.ValidateRequestParameters)
			}
			return invalidPath(op)
		})
		if err != nil {
			return 0, nil, err
		}
		*v = out
		return http.StatusOK, v, nil
	case http.MethodDelete:
		for _, r := range a.resources {
			for hm, meth := range r.ResourceMethods {
				if meth.RequestValidatorID == v.ID {
					return 0, nil, conflict("Request Validator %s is in use by method %s/%s", v.ID, r.Path, hm)
				}
			}
		}
		delete(a.validators, v.ID)
		return http.StatusAccepted, nil, nil
	}
	return 0, nil, unknownOperation(c)
}

type createDeploymentInput struct {
	StageName           string            `json:"stageName"`
	StageDescription    string            `json:"stageDescription"`
	Description         string            `json:"description"`
	CacheClusterEnabled *bool             `json:"cacheClusterEnabled"`
	CacheClusterSize    string            `json:"cacheClusterSize"`
	Variables           map[string]string `json:"variables"`
	TracingEnabled      *bool             `json:"tracingEnabled"`
}

var stageNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,128}$`)

// Stage variable names and values are restricted as the stage variables reference says:
// https://docs.aws.amazon.com/apigateway/latest/developerguide/aws-api-gateway-stage-variables-reference.html
var (
	stageVariableRE      = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)
	stageVariableValueRE = regexp.MustCompile(`^[A-Za-z0-9\-._~:/?#&=,]{1,512}$`)
)

func checkVariables(vars map[string]string) error {
	for k, v := range vars {
		if !stageVariableRE.MatchString(k) {
			return badRequest("Stage variable name %s must match [A-Za-z0-9_]+", k)
		}
		if !stageVariableValueRE.MatchString(v) {
			return badRequest("Stage variable value %q for %s must match [A-Za-z0-9-._~:/?#&=,]+ and be at most 512 characters", v, k)
		}
	}
	return nil
}

func (s *Server) routeDeployments(c *call, a *api, segs []string) (int, any, error) {
	m := c.r.Method
	if len(segs) == 0 {
		switch m {
		case http.MethodGet:
			ds := make([]*deployment, 0, len(a.deployments))
			for _, d := range a.deployments {
				ds = append(ds, d)
			}
			sort.Slice(ds, func(i, j int) bool { return ds[i].seq > ds[j].seq })
			out := make([]Deployment, len(ds))
			for i, d := range ds {
				out[i] = d.view(c.embeds("apisummary"))
			}
			return list(c, out)
		case http.MethodPost:
			return s.createDeployment(c, a)
		}
		return 0, nil, unknownOperation(c)
	}
	if len(segs) != 1 {
		return 0, nil, unknownOperation(c)
	}
	d, ok := a.deployments[segs[0]]
	if !ok {
		return 0, nil, notFound("Invalid Deployment identifier specified")
	}
	switch m {
	case http.MethodGet:
		return http.StatusOK, d.view(c.embeds("apisummary")), nil
	case http.MethodPatch:
		desc := d.Description
		err := applyPatch(c, func(op patchOp, path []string) error {
			if name, ok := onePath(path); ok && name == "description" {
				return patchString(op, &desc)
			}
			return invalidPath(op)
		})
		if err != nil {
			return 0, nil, err
		}
		d.Description = desc
		return http.StatusOK, d.view(false), nil
	case http.MethodDelete:
		for _, st := range a.stages {
			if st.DeploymentID == d.ID {
				return 0, nil, badRequest("Active stages pointing to this deployment must be moved or deleted")
			}
		}
		delete(a.deployments, d.ID)
		return http.StatusAccepted, nil, nil
	}
	return 0, nil, unknownOperation(c)
}

func (d *deployment) view(summary bool) Deployment {
	out := d.Deployment
	if !summary {
		out.APISummary = nil
	}
	return out
}

func (s *Server) createDeployment(c *call, a *api) (int, any, error) {
	var in createDeploymentInput
	if err := c.decode(&in); err != nil {
		return 0, nil, err
	}
	if in.StageName != "" && !stageNameRE.MatchString(in.StageName) {
		return 0, nil, badRequest("Stage name only allows a-zA-Z0-9_")
	}
	if err := checkVariables(in.Variables); err != nil {
		return 0, nil, err
	}
	// AWS refuses to deploy an API with no method, or with a method that has no integration.
	summary := map[string]map[string]MethodSnapshot{}
	for _, r := range a.resources {
		for hm, m := range r.ResourceMethods {
			if m.MethodIntegration == nil {
				return 0, nil, badRequest("No integration defined for method")
			}
			if summary[r.Path] == nil {
				summary[r.Path] = map[string]MethodSnapshot{}
			}
			summary[r.Path][hm] = MethodSnapshot{AuthorizationType: m.AuthorizationType, APIKeyRequired: m.APIKeyRequired}
		}
	}
	if len(summary) == 0 {
		return 0, nil, badRequest("The REST API doesn't contain any methods")
	}
	s.seq++
	d := &deployment{
		Deployment: Deployment{ID: newID(6), Description: in.Description, CreatedDate: s.now().Unix(), APISummary: summary},
		seq:        s.seq,
		snap: deepCopy(&snapshot{
			Resources: a.resources, Models: a.models, Validators: a.validators,
			BinaryMediaTypes: a.BinaryMediaTypes,
		}),
	}
	a.deployments[d.ID] = d
	if in.StageName != "" {
		now := s.now().Unix()
		st, ok := a.stages[in.StageName]
		if !ok {
			st = newStage(in.StageName, d.ID, now)
			st.Description = in.StageDescription
			a.stages[in.StageName] = st
		}
		st.DeploymentID = d.ID
		st.LastUpdatedDate = now
		for k, v := range in.Variables {
			if st.Variables == nil {
				st.Variables = map[string]string{}
			}
			st.Variables[k] = v
		}
		if in.CacheClusterEnabled != nil {
			st.CacheClusterEnabled = *in.CacheClusterEnabled
		}
		if in.CacheClusterSize != "" {
			st.CacheClusterSize = in.CacheClusterSize
		}
		if in.TracingEnabled != nil {
			st.TracingEnabled = *in.TracingEnabled
		}
	}
	return http.StatusCreated, d.view(false), nil
}

func newStage(name, deploymentID string, now int64) *Stage {
	return &Stage{
		StageName: name, DeploymentID: deploymentID, CacheClusterStatus: "NOT_AVAILABLE",
		MethodSettings: map[string]*MethodSetting{}, CreatedDate: now, LastUpdatedDate: now,
	}
}

type createStageInput struct {
	StageName            string            `json:"stageName"`
	DeploymentID         string            `json:"deploymentId"`
	Description          string            `json:"description"`
	CacheClusterEnabled  bool              `json:"cacheClusterEnabled"`
	CacheClusterSize     string            `json:"cacheClusterSize"`
	Variables            map[string]string `json:"variables"`
	DocumentationVersion string            `json:"documentationVersion"`
	TracingEnabled       bool              `json:"tracingEnabled"`
	Tags                 map[string]string `json:"tags"`
}

func (s *Server) routeStages(c *call, a *api, segs []string) (int, any, error) {
	m := c.r.Method
	if len(segs) == 0 {
		switch m {
		case http.MethodGet:
			// GetStages is not paginated: {"item": [...]}.
			out := []*Stage{}
			for _, k := range sortedKeys(a.stages) {
				st := a.stages[k]
				if d := c.query.Get("deploymentId"); d != "" && st.DeploymentID != d {
					continue
				}
				out = append(out, st)
			}
			return http.StatusOK, map[string][]*Stage{"item": out}, nil
		case http.MethodPost:
			var in createStageInput
			if err := c.decode(&in); err != nil {
				return 0, nil, err
			}
			if !stageNameRE.MatchString(in.StageName) {
				return 0, nil, badRequest("Stage name only allows a-zA-Z0-9_")
			}
			if _, ok := a.deployments[in.DeploymentID]; !ok {
				return 0, nil, notFound("Invalid Deployment identifier specified")
			}
			if _, ok := a.stages[in.StageName]; ok {
				return 0, nil, conflict("Stage already exists")
			}
			if err := checkVariables(in.Variables); err != nil {
				return 0, nil, err
			}
			if err := validateTags(in.Tags); err != nil {
				return 0, nil, err
			}
			st := newStage(in.StageName, in.DeploymentID, s.now().Unix())
			st.Description, st.CacheClusterEnabled, st.CacheClusterSize = in.Description, in.CacheClusterEnabled, in.CacheClusterSize
			st.Variables, st.DocumentationVersion, st.TracingEnabled = copyTags(in.Variables), in.DocumentationVersion, in.TracingEnabled
			st.Tags = copyTags(in.Tags)
			a.stages[st.StageName] = st
			return http.StatusCreated, st, nil
		}
		return 0, nil, unknownOperation(c)
	}
	if len(segs) != 1 {
		return 0, nil, unknownOperation(c)
	}
	st, ok := a.stages[segs[0]]
	if !ok {
		return 0, nil, notFound("Invalid Stage identifier specified")
	}
	switch m {
	case http.MethodGet:
		return http.StatusOK, st, nil
	case http.MethodPatch:
		return s.updateStage(c, a, st)
	case http.MethodDelete:
		delete(a.stages, st.StageName)
		return http.StatusAccepted, nil, nil
	}
	return 0, nil, unknownOperation(c)
}

// methodSettingPaths maps the last two segments of "/{resourcePath}/{method}/{a}/{b}" to a setting.
var methodSettingPaths = map[string]func(op patchOp, ms *MethodSetting) error{
	"metrics/enabled":       func(op patchOp, ms *MethodSetting) error { return patchBool(op, &ms.MetricsEnabled) },
	"logging/loglevel":      func(op patchOp, ms *MethodSetting) error { return patchString(op, &ms.LoggingLevel) },
	"logging/dataTrace":     func(op patchOp, ms *MethodSetting) error { return patchBool(op, &ms.DataTraceEnabled) },
	"throttling/burstLimit": func(op patchOp, ms *MethodSetting) error { return patchInt(op, &ms.ThrottlingBurstLimit) },
	"throttling/rateLimit":  func(op patchOp, ms *MethodSetting) error { return patchFloat(op, &ms.ThrottlingRateLimit) },
	"caching/enabled":       func(op patchOp, ms *MethodSetting) error { return patchBool(op, &ms.CachingEnabled) },
	"caching/ttlInSeconds":  func(op patchOp, ms *MethodSetting) error { return patchInt(op, &ms.CacheTTLInSeconds) },
	"caching/dataEncrypted": func(op patchOp, ms *MethodSetting) error {
		return patchBool(op, &ms.CacheDataEncrypted)
	},
	"caching/requireAuthorizationForCacheControl": func(op patchOp, ms *MethodSetting) error {
		return patchBool(op, &ms.RequireAuthorizationForCacheControl)
	},
	"caching/unauthorizedCacheControlHeaderStrategy": func(op patchOp, ms *MethodSetting) error {
		return patchString(op, &ms.UnauthorizedCacheControlHeaderStrategy)
	},
}

func (s *Server) updateStage(c *call, a *api, st *Stage) (int, any, error) {
	out := deepCopy(st)
	if out.MethodSettings == nil {
		out.MethodSettings = map[string]*MethodSetting{}
	}
	err := applyPatch(c, func(op patchOp, path []string) error {
		if len(path) == 1 {
			switch path[0] {
			case "deploymentId":
				if op.Op != "replace" {
					return invalidPath(op)
				}
				if _, ok := a.deployments[op.value()]; !ok {
					return badRequest("Invalid deployment id specified: %s", op.value())
				}
				return patchString(op, &out.DeploymentID)
			case "description":
				return patchString(op, &out.Description)
			case "cacheClusterEnabled":
				return patchBool(op, &out.CacheClusterEnabled)
			case "cacheClusterSize":
				return patchString(op, &out.CacheClusterSize)
			case "tracingEnabled":
				return patchBool(op, &out.TracingEnabled)
			case "clientCertificateId":
				return patchString(op, &out.ClientCertificateID)
			case "documentationVersion":
				return patchString(op, &out.DocumentationVersion)
			case "webAclArn":
				return patchString(op, &out.WebACLArn)
			case "accessLogSettings":
				if op.Op == "remove" {
					out.AccessLogSettings = nil
					return nil
				}
			}
			return invalidPath(op)
		}
		if len(path) == 2 {
			switch path[0] {
			case "variables":
				if err := patchStringMap(op, &out.Variables, path[1]); err != nil {
					return err
				}
				return checkVariables(out.Variables)
			case "accessLogSettings":
				if out.AccessLogSettings == nil {
					out.AccessLogSettings = &AccessLogSettings{}
				}
				switch path[1] {
				case "format":
					return patchString(op, &out.AccessLogSettings.Format)
				case "destinationArn":
					return patchString(op, &out.AccessLogSettings.DestinationArn)
				}
			}
			return invalidPath(op)
		}
		if len(path) >= 4 {
			// "/*/*/metrics/enabled" or "/~1resize/POST/logging/loglevel": the resource path
			// segments were unescaped, so "/resize" arrives as one segment.
			n := len(path)
			setter, ok := methodSettingPaths[path[n-2]+"/"+path[n-1]]
			if !ok {
				return invalidPath(op)
			}
			key := strings.Join(path[:n-2], "/")
			key = strings.TrimPrefix(key, "/")
			if op.Op == "remove" && path[n-1] == "" {
				delete(out.MethodSettings, key)
				return nil
			}
			ms := out.MethodSettings[key]
			if ms == nil {
				ms = &MethodSetting{}
				out.MethodSettings[key] = ms
			}
			return setter(op, ms)
		}
		return invalidPath(op)
	})
	if err != nil {
		return 0, nil, err
	}
	out.LastUpdatedDate = s.now().Unix()
	*st = *out
	return http.StatusOK, st, nil
}
