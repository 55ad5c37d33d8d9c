package apigateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/resize-operator/resize-operator/hack/localaws/apigateway/vtl"
)

// execRequest is a method request as execute-api sees it.
type execRequest struct {
	requestID   string
	apiID       string
	stage       string
	httpMethod  string
	path        string // the resource path requested, e.g. /resize
	resource    *Resource
	pathParams  map[string]string
	query       map[string]string
	header      http.Header
	body        []byte
	contentType string
	sourceIP    string
	userAgent   string
	host        string
	start       time.Time
	stageVars   map[string]string
	logf        func(format string, args ...any)
}

// maxPayload is API Gateway's request payload limit.
const maxPayload = 10 << 20

// ServeExecuteAPI serves execute-api in LocalStack's path form,
// /restapis/{id}/{stage}/_user_request_/{path...}, and in AWS's own form, /{stage}/{path...} on
// the host {id}.execute-api.{anything} (for clients that resolve that name to the stack). It
// runs the method of the stage's deployed snapshot, so changes made after the last deployment
// are not served.
func (s *Server) ServeExecuteAPI(w http.ResponseWriter, r *http.Request) {
	requestID := newUUID()
	defer func() {
		if p := recover(); p != nil {
			s.logf("apigateway: execute-api %s %s: internal error: %v", r.Method, r.URL.Path, p)
			writeGatewayError(w, requestID, errInternal)
		}
	}()
	segs := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	if id, ok := executeAPIHost(r.Host); ok && (len(segs) < 4 || segs[0] != "restapis") {
		segs = append([]string{"restapis", id, segs[0], "_user_request_"}, segs[1:]...)
	}
	if len(segs) < 4 || segs[0] != "restapis" || segs[3] != "_user_request_" {
		writeGatewayError(w, requestID, &gatewayError{http.StatusNotFound, "NotFoundException", "Not Found"})
		return
	}
	apiID, stageName := segs[1], segs[2]
	var pathSegs []string
	for _, p := range segs[4:] {
		seg, err := url.PathUnescape(p)
		if err != nil {
			writeGatewayError(w, requestID, &gatewayError{http.StatusBadRequest, "BadRequestException", "Invalid request path"})
			return
		}
		pathSegs = append(pathSegs, seg)
	}
	// A trailing slash names the same resource.
	if n := len(pathSegs); n > 0 && pathSegs[n-1] == "" {
		pathSegs = pathSegs[:n-1]
	}

	s.mu.Lock()
	a := s.apis[apiID]
	var st *Stage
	var d *deployment
	if a != nil {
		st = a.stages[stageName]
		if st != nil {
			d = a.deployments[st.DeploymentID]
		}
	}
	var stageVars map[string]string
	if st != nil {
		stageVars = copyTags(st.Variables)
	}
	s.mu.Unlock()
	switch {
	case a == nil:
		// On AWS an unknown API has no host name at all; LocalStack's path form answers 404.
		writeGatewayError(w, requestID, &gatewayError{http.StatusNotFound, "NotFoundException", "Not Found"})
		return
	case st == nil || d == nil:
		// An unknown stage of a known API is a 403 "Forbidden" on AWS.
		writeGatewayError(w, requestID, &gatewayError{http.StatusForbidden, "ForbiddenException", "Forbidden"})
		return
	}
	// The snapshot is never written after CreateDeployment, so it is read without the lock.
	snap := d.snap

	res, params := matchResource(snap, pathSegs)
	var m *Method
	if res != nil {
		m = res.ResourceMethods[r.Method]
		if m == nil {
			m = res.ResourceMethods["ANY"]
		}
	}
	if m == nil || m.MethodIntegration == nil {
		writeGatewayError(w, requestID, &gatewayError{http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token"})
		return
	}
	// Signatures and API keys are not verified, but a request that carries none is refused as
	// on AWS, so an unsigned client of an IAM-protected method fails here too.
	if m.AuthorizationType == "AWS_IAM" && r.Header.Get("Authorization") == "" && r.URL.Query().Get("X-Amz-Signature") == "" {
		writeGatewayError(w, requestID, &gatewayError{http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token"})
		return
	}
	if m.APIKeyRequired && r.Header.Get("X-Api-Key") == "" {
		writeGatewayError(w, requestID, &gatewayError{http.StatusForbidden, "ForbiddenException", "Forbidden"})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil {
		writeGatewayError(w, requestID, &gatewayError{http.StatusBadRequest, "BadRequestException", "Could not read request body"})
		return
	}
	if len(body) > maxPayload {
		writeGatewayError(w, requestID, &gatewayError{http.StatusRequestEntityTooLarge, "RequestTooLargeException", "Request Too Long"})
		return
	}
	req := &execRequest{
		requestID: requestID, apiID: apiID, stage: stageName, httpMethod: r.Method,
		path: "/" + strings.Join(pathSegs, "/"), resource: res, pathParams: params,
		query: map[string]string{}, header: r.Header, body: body, contentType: requestContentType(r),
		sourceIP: remoteIP(r), userAgent: r.UserAgent(), host: r.Host, start: time.Now(), stageVars: stageVars, logf: s.logf,
	}
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			req.query[k] = v[len(v)-1]
		}
	}
	if gerr := validateRequest(snap, apiID, m, req); gerr != nil {
		writeGatewayError(w, requestID, gerr)
		return
	}
	resp, gerr := s.integrate(r.Context(), m, req)
	if gerr != nil {
		writeGatewayError(w, requestID, gerr)
		return
	}
	for k, vs := range resp.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.Header().Set("X-Amzn-Requestid", requestID)
	w.Header().Set("X-Amz-Apigw-Id", newID(8)+"=")
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}

// executeAPIHost extracts the API id from a host name "{id}.execute-api.{...}".
func executeAPIHost(host string) (string, bool) {
	id, rest, ok := strings.Cut(host, ".")
	if !ok || !strings.HasPrefix(rest, "execute-api.") || id == "" {
		return "", false
	}
	return id, true
}

// requestContentType is the media type templates and models are chosen by; API Gateway
// assumes application/json when the request has none.
func requestContentType(r *http.Request) string { return contentTypeOf(r.Header) }

func contentTypeOf(h http.Header) string {
	ct := h.Get("Content-Type")
	if ct == "" {
		return "application/json"
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
	}
	return mt
}

func remoteIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

// writeGatewayError answers with a gateway response's default template, {"message": ...}.
func writeGatewayError(w http.ResponseWriter, requestID string, e *gatewayError) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Requestid", requestID)
	w.Header().Set("X-Amzn-Errortype", e.typ)
	w.WriteHeader(e.status)
	_, _ = w.Write([]byte(gatewayBody(e)))
}

// gatewayBody is the default gateway response body. The responses API Gateway gives before it
// finds a method (missing token, forbidden) are compact, {"message":"..."}; those of the
// execution (validation, mapping, integration) have a space after the colon,
// {"message": "..."}, as clients see them from AWS.
func gatewayBody(e *gatewayError) string {
	b, _ := json.Marshal(e.message)
	switch e.typ {
	case "MissingAuthenticationTokenException", "ForbiddenException", "NotFoundException":
		return `{"message":` + string(b) + `}`
	}
	return `{"message": ` + string(b) + `}`
}

// matchResource finds the resource for a request path: at each level a literal path part wins
// over a {variable}, which wins over a greedy {variable+}.
func matchResource(snap *snapshot, segs []string) (*Resource, map[string]string) {
	children := map[string][]*Resource{}
	var root *Resource
	for _, r := range snap.Resources {
		if r.Path == "/" {
			root = r
			continue
		}
		children[r.ParentID] = append(children[r.ParentID], r)
	}
	if root == nil {
		return nil, nil
	}
	params := map[string]string{}
	var walk func(r *Resource, rest []string) *Resource
	walk = func(r *Resource, rest []string) *Resource {
		if len(rest) == 0 {
			return r
		}
		kids := children[r.ID]
		sort.Slice(kids, func(i, j int) bool { return rank(kids[i].PathPart) < rank(kids[j].PathPart) })
		for _, k := range kids {
			part := k.PathPart
			switch rank(part) {
			case 0:
				if part == rest[0] {
					if found := walk(k, rest[1:]); found != nil {
						return found
					}
				}
			case 1:
				if rest[0] == "" {
					continue
				}
				name := part[1 : len(part)-1]
				params[name] = rest[0]
				if found := walk(k, rest[1:]); found != nil {
					return found
				}
				delete(params, name)
			case 2:
				name := part[1 : len(part)-2]
				params[name] = strings.Join(rest, "/")
				return k
			}
		}
		return nil
	}
	res := walk(root, segs)
	if res == nil {
		return nil, nil
	}
	return res, params
}

func rank(part string) int {
	switch {
	case strings.HasSuffix(part, "+}"):
		return 2
	case strings.HasPrefix(part, "{"):
		return 1
	}
	return 0
}

// integrationResult is what the back end answered, before the integration response mapping.
type integrationResult struct {
	status int
	header http.Header
	body   []byte
}

// methodResponse is what the client receives.
type methodResponse struct {
	status int
	header http.Header
	body   []byte
}

// The gateway responses execute-api gives on its own behalf.
var (
	errInternal    = &gatewayError{http.StatusInternalServerError, "InternalServerErrorException", "Internal server error"}
	errUnsupported = &gatewayError{http.StatusUnsupportedMediaType, "UnsupportedMediaTypeException", "Unsupported Media Type"}
	errTimeout     = &gatewayError{http.StatusGatewayTimeout, "IntegrationTimeoutException", "Endpoint request timed out"}
)

// awsActionURIRE is an AWS integration URI of the action form:
// arn:aws:apigateway:<region>:<service>:action/<Action>[?query].
var awsActionURIRE = regexp.MustCompile(`^arn:aws[a-z-]*:apigateway:([a-z0-9-]+):([a-z0-9.-]+):action/([A-Za-z0-9]+)(\?.*)?$`)

const errConfigFormat = "apigateway: execute-api %s %s (API %s, stage %s): %s"

// configError logs why a request failed on the API's configuration (a template the renderer
// refuses, an integration the stack does not run) and gives the client API Gateway's 500.
func configError(req *execRequest, format string, a ...any) *gatewayError {
	req.logf(errConfigFormat, req.httpMethod, req.path, req.apiID, req.stage, fmt.Sprintf(format, a...))
	return errInternal
}

// integrate runs the integration request, the back end, and the integration response.
func (s *Server) integrate(ctx context.Context, m *Method, req *execRequest) (*methodResponse, *gatewayError) {
	in := m.MethodIntegration
	switch in.Type {
	case "AWS", "MOCK", "HTTP":
	case "HTTP_PROXY":
		// The request goes to the back end as it came and the answer comes back as it is.
		out, gerr := s.callHTTP(ctx, in, req, req.body, true)
		if gerr != nil {
			return nil, gerr
		}
		return &methodResponse{status: out.status, header: out.header, body: out.body}, nil
	default:
		return nil, configError(req, "integration type %s is not supported by the local stack (AWS, HTTP, HTTP_PROXY and MOCK are)", in.Type)
	}
	body, gerr := s.mapRequest(in, req)
	if gerr != nil {
		return nil, gerr
	}
	var out *integrationResult
	switch in.Type {
	case "MOCK":
		out = mockResult(body)
	case "AWS":
		out, gerr = s.callAWS(ctx, in, req, body)
	case "HTTP":
		out, gerr = s.callHTTP(ctx, in, req, body, false)
	}
	if gerr != nil {
		return nil, gerr
	}
	return s.mapResponse(m, req, out)
}

// mapRequest renders the request template for the request's content type, following the
// passthrough behaviour:
// https://docs.aws.amazon.com/apigateway/latest/developerguide/integration-passthrough-behaviors.html
func (s *Server) mapRequest(in *Integration, req *execRequest) ([]byte, *gatewayError) {
	tpl, ok := in.RequestTemplates[req.contentType]
	if !ok {
		switch in.PassthroughBehavior {
		case "NEVER":
			return nil, errUnsupported
		case "WHEN_NO_TEMPLATES":
			if len(in.RequestTemplates) > 0 {
				return nil, errUnsupported
			}
		}
		return req.body, nil
	}
	out, err := render(tpl, req, string(req.body))
	if err != nil {
		var be *vtl.BodyError
		if errors.As(err, &be) {
			return nil, &gatewayError{http.StatusBadRequest, "BadRequestException", be.Error()}
		}
		return nil, configError(req, "request template for %s: %v", req.contentType, err)
	}
	return []byte(out), nil
}

// render renders a mapping template with API Gateway's variables; body is $input's body (the
// request body in a request template, the integration response body in a response template).
func render(tpl string, req *execRequest, body string) (string, error) {
	t, err := vtl.Parse(tpl)
	if err != nil {
		return "", err
	}
	header := map[string]string{}
	for k, v := range req.header {
		if len(v) > 0 {
			header[k] = v[0]
		}
	}
	input := &vtl.Input{Body: body, Path: req.pathParams, QueryString: req.query, Header: header}
	out, err := t.Render(map[string]any{
		"input":          input,
		"util":           vtl.Util{},
		"context":        contextVar(req),
		"stageVariables": vtl.StringMap(req.stageVars),
	})
	if err != nil {
		// The renderer wraps $input's own error; surface it so a bad body is a 400, not a 500.
		var ve *vtl.Error
		if errors.As(err, &ve) {
			if be := bodyErrorOf(input); be != nil {
				return "", be
			}
		}
		return "", err
	}
	return out, nil
}

// bodyErrorOf reports whether rendering failed because $input's body was not JSON.
func bodyErrorOf(in *vtl.Input) error {
	if _, err := in.Call("json", []any{"$"}); err != nil {
		var be *vtl.BodyError
		if errors.As(err, &be) {
			return be
		}
	}
	return nil
}

// contextVar is $context: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html#context-variable-reference
func contextVar(req *execRequest) *vtl.Map {
	resourcePath, resourceID := "", ""
	if req.resource != nil {
		resourcePath, resourceID = req.resource.Path, req.resource.ID
	}
	return vtl.MapOf(
		"accountId", "000000000000",
		"apiId", req.apiID,
		"domainName", req.host,
		"domainPrefix", req.apiID,
		"extendedRequestId", req.requestID,
		"httpMethod", req.httpMethod,
		"identity", vtl.MapOf(
			"sourceIp", req.sourceIP,
			"userAgent", req.userAgent,
			"accountId", "",
			"caller", "",
			"user", "",
			"userArn", "",
		),
		"path", "/"+req.stage+req.path,
		"protocol", "HTTP/1.1",
		"requestId", req.requestID,
		"requestTime", req.start.UTC().Format("02/Jan/2006:15:04:05 -0700"),
		"requestTimeEpoch", req.start.UnixMilli(),
		"resourceId", resourceID,
		"resourcePath", resourcePath,
		"stage", req.stage,
	)
}

// mockResult answers a MOCK integration: the status is the "statusCode" of the rendered
// request template (200 when absent), the body empty, as on AWS.
func mockResult(body []byte) *integrationResult {
	status := http.StatusOK
	var v struct {
		StatusCode json.Number `json:"statusCode"`
	}
	if json.Unmarshal(body, &v) == nil && v.StatusCode != "" {
		if n, err := strconv.Atoi(v.StatusCode.String()); err == nil {
			status = n
		}
	}
	return &integrationResult{status: status, header: http.Header{}}
}

// callAWS calls an AWS service action ("arn:aws:apigateway:<region>:<service>:action/<Action>")
// through the stack's invoker, bounded by the integration timeout.
func (s *Server) callAWS(ctx context.Context, in *Integration, req *execRequest, body []byte) (*integrationResult, *gatewayError) {
	mm := awsActionURIRE.FindStringSubmatch(in.URI)
	if mm == nil {
		return nil, configError(req, "integration URI %s: only action/<Action> URIs of AWS integrations are supported by the local stack", in.URI)
	}
	service := mm[2]
	// "<subdomain>.<service>" addresses a regional sub-host of the service; the action is the same.
	if i := strings.LastIndexByte(service, '.'); i >= 0 {
		service = service[i+1:]
	}
	if s.invoker == nil {
		return nil, configError(req, "no service invoker configured for %s:%s", service, mm[3])
	}
	timeout := time.Duration(in.TimeoutInMillis) * time.Millisecond
	if timeout <= 0 {
		timeout = 29 * time.Second
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	status, header, respBody, err := s.invoker.Invoke(cctx, service, mm[3], body)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || cctx.Err() != nil {
			return nil, errTimeout
		}
		return nil, configError(req, "calling %s:%s: %v", service, mm[3], err)
	}
	if header == nil {
		header = http.Header{}
	}
	return &integrationResult{status: status, header: header, body: respBody}, nil
}

// selectIntegrationResponse picks the integration response whose selectionPattern (a regular
// expression over the whole status code) matches, else the default one (no pattern):
// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-integration-settings-integration-response.html
func selectIntegrationResponse(in *Integration, status int) *IntegrationResponse {
	code := strconv.Itoa(status)
	var def *IntegrationResponse
	for _, k := range sortedKeys(in.IntegrationResponses) {
		ir := in.IntegrationResponses[k]
		if ir.SelectionPattern == "" {
			if def == nil {
				def = ir
			}
			continue
		}
		re, err := regexp.Compile("^(?:" + ir.SelectionPattern + ")$")
		if err == nil && re.MatchString(code) {
			return ir
		}
	}
	return def
}

func (s *Server) mapResponse(m *Method, req *execRequest, out *integrationResult) (*methodResponse, *gatewayError) {
	in := m.MethodIntegration
	ir := selectIntegrationResponse(in, out.status)
	if ir == nil {
		return nil, configError(req, "no integration response matches status %d and there is no default one", out.status)
	}
	status, err := strconv.Atoi(ir.StatusCode)
	if err != nil {
		return nil, configError(req, "integration response status %q is not a number", ir.StatusCode)
	}
	header := http.Header{}
	for _, k := range sortedKeys(ir.ResponseParameters) {
		name, ok := strings.CutPrefix(k, "method.response.header.")
		if !ok {
			continue
		}
		v, ok := responseParamValue(ir.ResponseParameters[k], req, out)
		if ok {
			header.Set(name, v)
		}
	}
	ct, tpl, hasTpl := chooseResponseTemplate(ir.ResponseTemplates, req.header.Get("Accept"))
	body := out.body
	if hasTpl && strings.TrimSpace(tpl) != "" {
		rendered, err := render(tpl, req, string(out.body))
		if err != nil {
			return nil, configError(req, "response template for %s (status %s): %v", ct, ir.StatusCode, err)
		}
		body = []byte(rendered)
	}
	if header.Get("Content-Type") == "" {
		header.Set("Content-Type", ct)
	}
	return &methodResponse{status: status, header: header, body: body}, nil
}

// chooseResponseTemplate picks the response template for the client's Accept header, else
// application/json, else the first one; with none the body passes through as application/json.
func chooseResponseTemplate(tpls map[string]string, accept string) (string, string, bool) {
	if len(tpls) == 0 {
		return "application/json", "", false
	}
	for _, part := range strings.Split(accept, ",") {
		mt := strings.TrimSpace(strings.SplitN(part, ";", 2)[0])
		if t, ok := tpls[mt]; ok {
			return mt, t, true
		}
	}
	if t, ok := tpls["application/json"]; ok {
		return "application/json", t, true
	}
	k := sortedKeys(tpls)[0]
	return k, tpls[k], true
}

// responseParamValue evaluates an integration response's header mapping expression.
func responseParamValue(expr string, req *execRequest, out *integrationResult) (string, bool) {
	switch {
	case len(expr) >= 2 && strings.HasPrefix(expr, "'") && strings.HasSuffix(expr, "'"):
		return expr[1 : len(expr)-1], true
	case strings.HasPrefix(expr, "integration.response.header."):
		v := out.header.Get(strings.TrimPrefix(expr, "integration.response.header."))
		return v, v != ""
	case strings.HasPrefix(expr, "integration.response.multivalueheader."):
		vs := out.header.Values(strings.TrimPrefix(expr, "integration.response.multivalueheader."))
		return strings.Join(vs, ","), len(vs) > 0
	case expr == "integration.response.body":
		return string(out.body), true
	case strings.HasPrefix(expr, "integration.response.body."):
		in := &vtl.Input{Body: string(out.body)}
		v, err := in.Call("path", []any{"$." + strings.TrimPrefix(expr, "integration.response.body.")})
		if err != nil || v == nil {
			return "", false
		}
		if s, ok := v.(string); ok {
			return s, true
		}
		return vtl.JSONString(v), true
	case strings.HasPrefix(expr, "stageVariables."):
		v, ok := req.stageVars[strings.TrimPrefix(expr, "stageVariables.")]
		return v, ok
	case strings.HasPrefix(expr, "context."):
		if strings.TrimPrefix(expr, "context.") == "requestId" {
			return req.requestID, true
		}
	}
	return "", false
}
