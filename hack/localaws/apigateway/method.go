package apigateway

import (
	"net/http"
	"regexp"
	"strings"
)

var httpMethods = map[string]bool{"GET": true, "PUT": true, "POST": true, "DELETE": true, "PATCH": true, "OPTIONS": true, "HEAD": true, "ANY": true}

var authorizationTypes = map[string]bool{"NONE": true, "AWS_IAM": true, "CUSTOM": true, "COGNITO_USER_POOLS": true}

// requestParamRE is the shape of method request parameter names.
var requestParamRE = regexp.MustCompile(`^method\.request\.(path|querystring|header|multivaluequerystring|multivalueheader)\.[^.\s][^\s]*$`)

// statusCodeRE is what AWS accepts as a response status code.
var statusCodeRE = regexp.MustCompile(`^[1-5]\d\d$`)

func (s *Server) routeMethod(c *call, a *api, res *Resource, hm string, segs []string) (int, any, error) {
	m := c.r.Method
	if len(segs) == 0 {
		switch m {
		case http.MethodPut:
			return s.putMethod(c, a, res, hm)
		}
	}
	meth, ok := res.ResourceMethods[hm]
	if !ok {
		return 0, nil, notFound("Invalid Method identifier specified")
	}
	if len(segs) == 0 {
		switch m {
		case http.MethodGet:
			return http.StatusOK, meth, nil
		case http.MethodPatch:
			return s.updateMethod(c, a, res, meth)
		case http.MethodDelete:
			delete(res.ResourceMethods, hm)
			if len(res.ResourceMethods) == 0 {
				res.ResourceMethods = nil
			}
			return http.StatusNoContent, nil, nil
		}
		return 0, nil, unknownOperation(c)
	}
	switch segs[0] {
	case "responses":
		if len(segs) != 2 {
			return 0, nil, unknownOperation(c)
		}
		return s.routeMethodResponse(c, a, meth, segs[1])
	case "integration":
		if len(segs) == 1 {
			return s.routeIntegration(c, a, res, meth)
		}
		if len(segs) == 3 && segs[1] == "responses" {
			return s.routeIntegrationResponse(c, meth, segs[2])
		}
	}
	return 0, nil, unknownOperation(c)
}

type putMethodInput struct {
	AuthorizationType   string            `json:"authorizationType"`
	AuthorizerID        string            `json:"authorizerId"`
	APIKeyRequired      bool              `json:"apiKeyRequired"`
	OperationName       string            `json:"operationName"`
	RequestParameters   map[string]bool   `json:"requestParameters"`
	RequestModels       map[string]string `json:"requestModels"`
	RequestValidatorID  string            `json:"requestValidatorId"`
	AuthorizationScopes []string          `json:"authorizationScopes"`
}

func (s *Server) putMethod(c *call, a *api, res *Resource, hm string) (int, any, error) {
	if !httpMethods[hm] {
		return 0, nil, badRequest("Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY")
	}
	var in putMethodInput
	if err := c.decode(&in); err != nil {
		return 0, nil, err
	}
	if _, ok := res.ResourceMethods[hm]; ok {
		return 0, nil, conflict("Method already exists for this resource")
	}
	meth := &Method{
		HTTPMethod: hm, AuthorizationType: in.AuthorizationType, AuthorizerID: in.AuthorizerID,
		APIKeyRequired: in.APIKeyRequired, OperationName: in.OperationName,
		RequestParameters: in.RequestParameters, RequestModels: in.RequestModels,
		RequestValidatorID: in.RequestValidatorID, AuthorizationScopes: in.AuthorizationScopes,
	}
	if err := s.checkMethod(a, meth); err != nil {
		return 0, nil, err
	}
	if res.ResourceMethods == nil {
		res.ResourceMethods = map[string]*Method{}
	}
	res.ResourceMethods[hm] = meth
	return http.StatusCreated, meth, nil
}

// checkMethod enforces what AWS checks on PutMethod and UpdateMethod: a known authorization
// type, an existing validator and models, well-formed request parameter names.
func (s *Server) checkMethod(a *api, m *Method) error {
	if !authorizationTypes[m.AuthorizationType] {
		return badRequest("Invalid authorization type specified. Valid options are NONE,AWS_IAM,CUSTOM,COGNITO_USER_POOLS")
	}
	if (m.AuthorizationType == "CUSTOM" || m.AuthorizationType == "COGNITO_USER_POOLS") && m.AuthorizerID == "" {
		return badRequest("Invalid authorizer ID specified. Setting the authorization type to %s requires a valid authorizer.", m.AuthorizationType)
	}
	if m.RequestValidatorID != "" {
		if _, ok := a.validators[m.RequestValidatorID]; !ok {
			return badRequest("Invalid Request Validator identifier specified")
		}
	}
	for ct, name := range m.RequestModels {
		if _, ok := a.models[name]; !ok {
			return badRequest("Invalid model identifier specified: %s", name)
		}
		if ct == "" {
			return badRequest("Invalid content type specified for model %s", name)
		}
	}
	for p := range m.RequestParameters {
		if !requestParamRE.MatchString(p) {
			return badRequest("Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid method request parameter specified: %s]", p)
		}
	}
	return nil
}

func (s *Server) updateMethod(c *call, a *api, res *Resource, meth *Method) (int, any, error) {
	m := deepCopy(meth)
	err := applyPatch(c, func(op patchOp, path []string) error {
		if len(path) == 0 {
			return invalidPath(op)
		}
		if len(path) == 1 {
			switch path[0] {
			case "authorizationType":
				return patchString(op, &m.AuthorizationType)
			case "authorizerId":
				return patchString(op, &m.AuthorizerID)
			case "apiKeyRequired":
				return patchBool(op, &m.APIKeyRequired)
			case "requestValidatorId":
				return patchString(op, &m.RequestValidatorID)
			case "operationName":
				return patchString(op, &m.OperationName)
			}
			return invalidPath(op)
		}
		key := strings.Join(path[1:], "/")
		switch path[0] {
		case "requestParameters":
			return patchBoolMap(op, &m.RequestParameters, key)
		case "requestModels":
			return patchStringMap(op, &m.RequestModels, key)
		case "authorizationScopes":
			return patchStringList(op, &m.AuthorizationScopes, key)
		}
		return invalidPath(op)
	})
	if err != nil {
		return 0, nil, err
	}
	if err := s.checkMethod(a, m); err != nil {
		return 0, nil, err
	}
	res.ResourceMethods[meth.HTTPMethod] = m
	return http.StatusOK, m, nil
}

type putIntegrationInput struct {
	Type                string            `json:"type"`
	HTTPMethod          string            `json:"httpMethod"`
	URI                 string            `json:"uri"`
	ConnectionType      string            `json:"connectionType"`
	ConnectionID        string            `json:"connectionId"`
	Credentials         string            `json:"credentials"`
	RequestParameters   map[string]string `json:"requestParameters"`
	RequestTemplates    map[string]string `json:"requestTemplates"`
	PassthroughBehavior string            `json:"passthroughBehavior"`
	CacheNamespace      string            `json:"cacheNamespace"`
	CacheKeyParameters  []string          `json:"cacheKeyParameters"`
	ContentHandling     string            `json:"contentHandling"`
	TimeoutInMillis     *int32            `json:"timeoutInMillis"`
	TLSConfig           *TLSConfig        `json:"tlsConfig"`
}

func (s *Server) routeIntegration(c *call, a *api, res *Resource, meth *Method) (int, any, error) {
	switch c.r.Method {
	case http.MethodPut:
		var in putIntegrationInput
		if err := c.decode(&in); err != nil {
			return 0, nil, err
		}
		in2 := &Integration{
			Type: in.Type, HTTPMethod: strings.ToUpper(in.HTTPMethod), URI: in.URI, ConnectionType: in.ConnectionType,
			ConnectionID: in.ConnectionID, Credentials: in.Credentials, RequestParameters: in.RequestParameters,
			RequestTemplates: in.RequestTemplates, PassthroughBehavior: in.PassthroughBehavior,
			CacheNamespace: in.CacheNamespace, CacheKeyParameters: in.CacheKeyParameters,
			ContentHandling: in.ContentHandling, TimeoutInMillis: 29000, TLSConfig: in.TLSConfig,
		}
		if in.TimeoutInMillis != nil {
			in2.TimeoutInMillis = *in.TimeoutInMillis
		}
		if in2.PassthroughBehavior == "" {
			in2.PassthroughBehavior = "WHEN_NO_MATCH"
		}
		if in2.ConnectionType == "" {
			in2.ConnectionType = "INTERNET"
		}
		if in2.CacheNamespace == "" {
			in2.CacheNamespace = res.ID
		}
		if in2.CacheKeyParameters == nil {
			in2.CacheKeyParameters = []string{}
		}
		if err := checkIntegration(in2); err != nil {
			return 0, nil, err
		}
		// A new PutIntegration replaces the integration with its responses, as on AWS.
		meth.MethodIntegration = in2
		return http.StatusCreated, in2, nil
	}
	if meth.MethodIntegration == nil {
		return 0, nil, notFound("No integration defined for method")
	}
	switch c.r.Method {
	case http.MethodGet:
		return http.StatusOK, meth.MethodIntegration, nil
	case http.MethodDelete:
		meth.MethodIntegration = nil
		return http.StatusNoContent, nil, nil
	case http.MethodPatch:
		in := deepCopy(meth.MethodIntegration)
		err := applyPatch(c, func(op patchOp, path []string) error {
			if len(path) == 1 {
				switch path[0] {
				case "uri":
					return patchString(op, &in.URI)
				case "httpMethod":
					err := patchString(op, &in.HTTPMethod)
					in.HTTPMethod = strings.ToUpper(in.HTTPMethod)
					return err
				case "credentials":
					return patchString(op, &in.Credentials)
				case "passthroughBehavior":
					return patchString(op, &in.PassthroughBehavior)
				case "timeoutInMillis":
					return patchInt(op, &in.TimeoutInMillis)
				case "contentHandling":
					return patchString(op, &in.ContentHandling)
				case "connectionType":
					return patchString(op, &in.ConnectionType)
				case "connectionId":
					return patchString(op, &in.ConnectionID)
				case "cacheNamespace":
					return patchString(op, &in.CacheNamespace)
				}
				return invalidPath(op)
			}
			if len(path) < 2 {
				return invalidPath(op)
			}
			key := strings.Join(path[1:], "/")
			switch path[0] {
			case "requestTemplates":
				return patchStringMap(op, &in.RequestTemplates, key)
			case "requestParameters":
				return patchStringMap(op, &in.RequestParameters, key)
			case "cacheKeyParameters":
				return patchStringList(op, &in.CacheKeyParameters, key)
			case "tlsConfig":
				if key == "insecureSkipVerification" {
					if in.TLSConfig == nil {
						in.TLSConfig = &TLSConfig{}
					}
					return patchBool(op, &in.TLSConfig.InsecureSkipVerification)
				}
			}
			return invalidPath(op)
		})
		if err != nil {
			return 0, nil, err
		}
		if err := checkIntegration(in); err != nil {
			return 0, nil, err
		}
		meth.MethodIntegration = in
		return http.StatusOK, in, nil
	}
	return 0, nil, unknownOperation(c)
}

var integrationTypes = map[string]bool{"HTTP": true, "AWS": true, "MOCK": true, "HTTP_PROXY": true, "AWS_PROXY": true}

var passthroughBehaviors = map[string]bool{"WHEN_NO_MATCH": true, "WHEN_NO_TEMPLATES": true, "NEVER": true}

// awsIntegrationURIRE is arn:aws:apigateway:{region}:{service}:{action|path}/{...}.
var awsIntegrationURIRE = regexp.MustCompile(`^arn:aws[a-z-]*:apigateway:[a-z0-9-]+:[a-z0-9.-]+:(action|path)/.+$`)

// credentialsRE is an IAM role ARN or the caller-credentials form AWS accepts.
var credentialsRE = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(\d{12}|\*):(role/.+|user/\*)$`)

func checkIntegration(in *Integration) error {
	if !integrationTypes[in.Type] {
		return badRequest("Invalid integration type specified. Valid options are HTTP,AWS,MOCK,HTTP_PROXY,AWS_PROXY")
	}
	if !passthroughBehaviors[in.PassthroughBehavior] {
		return badRequest("Invalid passthrough behavior specified: %s. Valid options are WHEN_NO_MATCH,WHEN_NO_TEMPLATES,NEVER", in.PassthroughBehavior)
	}
	if in.TimeoutInMillis < 50 || in.TimeoutInMillis > 29000 {
		return badRequest("Timeout should be between 50 ms and 29000 ms")
	}
	if in.ContentHandling != "" && in.ContentHandling != "CONVERT_TO_BINARY" && in.ContentHandling != "CONVERT_TO_TEXT" {
		return badRequest("Invalid content handling specified: %s", in.ContentHandling)
	}
	if in.Credentials != "" && !credentialsRE.MatchString(in.Credentials) {
		return badRequest("Invalid ARN specified in the request")
	}
	if in.Type == "MOCK" {
		return nil
	}
	if in.HTTPMethod == "" {
		return badRequest("Enumeration value for HttpMethod must be non-empty")
	}
	if !httpMethods[in.HTTPMethod] {
		return badRequest("Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY")
	}
	switch in.Type {
	case "AWS", "AWS_PROXY":
		if !awsIntegrationURIRE.MatchString(in.URI) {
			return badRequest("AWS ARN for integration must contain path or action")
		}
	case "HTTP", "HTTP_PROXY":
		if !strings.HasPrefix(in.URI, "http://") && !strings.HasPrefix(in.URI, "https://") {
			return badRequest("Invalid HTTP endpoint specified for URI")
		}
	}
	return nil
}

func (s *Server) routeMethodResponse(c *call, a *api, meth *Method, code string) (int, any, error) {
	switch c.r.Method {
	case http.MethodPut:
		if !statusCodeRE.MatchString(code) {
			return 0, nil, badRequest("Invalid status code specified: %s", code)
		}
		if _, ok := meth.MethodResponses[code]; ok {
			return 0, nil, conflict("Response already exists for this resource")
		}
		var in struct {
			ResponseParameters map[string]bool   `json:"responseParameters"`
			ResponseModels     map[string]string `json:"responseModels"`
		}
		if err := c.decode(&in); err != nil {
			return 0, nil, err
		}
		mr := &MethodResponse{StatusCode: code, ResponseParameters: in.ResponseParameters, ResponseModels: in.ResponseModels}
		if err := checkMethodResponse(a, mr); err != nil {
			return 0, nil, err
		}
		if meth.MethodResponses == nil {
			meth.MethodResponses = map[string]*MethodResponse{}
		}
		meth.MethodResponses[code] = mr
		return http.StatusCreated, mr, nil
	}
	mr, ok := meth.MethodResponses[code]
	if !ok {
		return 0, nil, notFound("Invalid Response status code specified")
	}
	switch c.r.Method {
	case http.MethodGet:
		return http.StatusOK, mr, nil
	case http.MethodDelete:
		delete(meth.MethodResponses, code)
		if len(meth.MethodResponses) == 0 {
			meth.MethodResponses = nil
		}
		return http.StatusNoContent, nil, nil
	case http.MethodPatch:
		out := deepCopy(mr)
		err := applyPatch(c, func(op patchOp, path []string) error {
			if len(path) < 2 {
				return invalidPath(op)
			}
			key := strings.Join(path[1:], "/")
			switch path[0] {
			case "responseParameters":
				return patchBoolMap(op, &out.ResponseParameters, key)
			case "responseModels":
				return patchStringMap(op, &out.ResponseModels, key)
			}
			return invalidPath(op)
		})
		if err != nil {
			return 0, nil, err
		}
		if err := checkMethodResponse(a, out); err != nil {
			return 0, nil, err
		}
		meth.MethodResponses[code] = out
		// UpdateMethodResponse answers 201, as the API reference says.
		return http.StatusCreated, out, nil
	}
	return 0, nil, unknownOperation(c)
}

func checkMethodResponse(a *api, mr *MethodResponse) error {
	for _, name := range mr.ResponseModels {
		if _, ok := a.models[name]; !ok {
			return badRequest("Invalid model identifier specified: %s", name)
		}
	}
	for p := range mr.ResponseParameters {
		if !strings.HasPrefix(p, "method.response.header.") || len(p) == len("method.response.header.") {
			return badRequest("Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid response parameter specified: %s]", p)
		}
	}
	return nil
}

func (s *Server) routeIntegrationResponse(c *call, meth *Method, code string) (int, any, error) {
	in := meth.MethodIntegration
	if in == nil {
		return 0, nil, notFound("No integration defined for method")
	}
	switch c.r.Method {
	case http.MethodPut:
		if _, ok := meth.MethodResponses[code]; !ok {
			return 0, nil, notFound("Invalid Response status code specified")
		}
		var body struct {
			SelectionPattern   string            `json:"selectionPattern"`
			ResponseParameters map[string]string `json:"responseParameters"`
			ResponseTemplates  map[string]string `json:"responseTemplates"`
			ContentHandling    string            `json:"contentHandling"`
		}
		if err := c.decode(&body); err != nil {
			return 0, nil, err
		}
		ir := &IntegrationResponse{StatusCode: code, SelectionPattern: body.SelectionPattern,
			ResponseParameters: body.ResponseParameters, ResponseTemplates: body.ResponseTemplates, ContentHandling: body.ContentHandling}
		if err := checkIntegrationResponse(meth, ir); err != nil {
			return 0, nil, err
		}
		if in.IntegrationResponses == nil {
			in.IntegrationResponses = map[string]*IntegrationResponse{}
		}
		in.IntegrationResponses[code] = ir
		return http.StatusCreated, ir, nil
	}
	ir, ok := in.IntegrationResponses[code]
	if !ok {
		return 0, nil, notFound("Invalid Response status code specified")
	}
	switch c.r.Method {
	case http.MethodGet:
		return http.StatusOK, ir, nil
	case http.MethodDelete:
		delete(in.IntegrationResponses, code)
		if len(in.IntegrationResponses) == 0 {
			in.IntegrationResponses = nil
		}
		return http.StatusNoContent, nil, nil
	case http.MethodPatch:
		out := deepCopy(ir)
		err := applyPatch(c, func(op patchOp, path []string) error {
			if len(path) == 1 {
				switch path[0] {
				case "selectionPattern":
					return patchString(op, &out.SelectionPattern)
				case "contentHandling":
					return patchString(op, &out.ContentHandling)
				}
				return invalidPath(op)
			}
			if len(path) < 2 {
				return invalidPath(op)
			}
			key := strings.Join(path[1:], "/")
			switch path[0] {
			case "responseTemplates":
				return patchStringMap(op, &out.ResponseTemplates, key)
			case "responseParameters":
				return patchStringMap(op, &out.ResponseParameters, key)
			}
			return invalidPath(op)
		})
		if err != nil {
			return 0, nil, err
		}
		if err := checkIntegrationResponse(meth, out); err != nil {
			return 0, nil, err
		}
		in.IntegrationResponses[code] = out
		return http.StatusOK, out, nil
	}
	return 0, nil, unknownOperation(c)
}

// responseValueRE is what an integration response may map to a header: a quoted literal, an
// integration response header, or (part of) the integration response body.
var responseValueRE = regexp.MustCompile(`^('.*'|integration\.response\.header\.\S+|integration\.response\.multivalueheader\.\S+|integration\.response\.body(\.\S+)?|stageVariables\.\S+|context\.\S+)$`)

func checkIntegrationResponse(meth *Method, ir *IntegrationResponse) error {
	if ir.SelectionPattern != "" {
		if _, err := regexp.Compile(ir.SelectionPattern); err != nil {
			return badRequest("Invalid selection pattern specified: %s", ir.SelectionPattern)
		}
	}
	if ir.ContentHandling != "" && ir.ContentHandling != "CONVERT_TO_BINARY" && ir.ContentHandling != "CONVERT_TO_TEXT" {
		return badRequest("Invalid content handling specified: %s", ir.ContentHandling)
	}
	mr := meth.MethodResponses[ir.StatusCode]
	for k, v := range ir.ResponseParameters {
		// AWS requires the header to be declared on the method response first.
		if mr == nil {
			return badRequest("Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression specified: %s]", k)
		}
		if _, declared := mr.ResponseParameters[k]; !declared {
			return badRequest("Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression specified: %s]", k)
		}
		if !responseValueRE.MatchString(v) {
			return badRequest("Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression parameter specified: %s]", v)
		}
	}
	return nil
}
