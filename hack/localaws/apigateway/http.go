package apigateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// httpClient calls HTTP back ends; timeouts come from each integration's timeoutInMillis.
var httpClient = &http.Client{
	// API Gateway does not follow redirects for the client; the 3xx is the integration's answer.
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// hopHeaders are not forwarded to or from a proxied back end.
var hopHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true, "Proxy-Authorization": true,
	"Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true, "Host": true, "Content-Length": true,
}

// integrationParams evaluates the integration's requestParameters mappings
// (integration.request.{path,querystring,header}.<name> = method.request.<where>.<name>,
// 'literal', stageVariables.<name> or context.requestId):
// https://docs.aws.amazon.com/apigateway/latest/developerguide/request-response-data-mappings.html
func integrationParams(in *Integration, req *execRequest) (path, query map[string]string, header http.Header) {
	path, query, header = map[string]string{}, map[string]string{}, http.Header{}
	for k, expr := range in.RequestParameters {
		parts := strings.SplitN(k, ".", 4)
		if len(parts) != 4 || parts[0] != "integration" || parts[1] != "request" {
			continue
		}
		v, ok := requestParamValue(expr, req)
		if !ok {
			continue
		}
		switch parts[2] {
		case "path":
			path[parts[3]] = v
		case "querystring", "multivaluequerystring":
			query[parts[3]] = v
		case "header", "multivalueheader":
			header.Set(parts[3], v)
		}
	}
	return path, query, header
}

func requestParamValue(expr string, req *execRequest) (string, bool) {
	switch {
	case len(expr) >= 2 && strings.HasPrefix(expr, "'") && strings.HasSuffix(expr, "'"):
		return expr[1 : len(expr)-1], true
	case strings.HasPrefix(expr, "method.request.path."):
		v, ok := req.pathParams[strings.TrimPrefix(expr, "method.request.path.")]
		return v, ok
	case strings.HasPrefix(expr, "method.request.querystring."):
		v, ok := req.query[strings.TrimPrefix(expr, "method.request.querystring.")]
		return v, ok
	case strings.HasPrefix(expr, "method.request.header."):
		name := strings.TrimPrefix(expr, "method.request.header.")
		return req.header.Get(name), len(req.header.Values(name)) > 0
	case strings.HasPrefix(expr, "stageVariables."):
		v, ok := req.stageVars[strings.TrimPrefix(expr, "stageVariables.")]
		return v, ok
	case expr == "context.requestId":
		return req.requestID, true
	}
	return "", false
}

// callHTTP calls an HTTP or HTTP_PROXY integration. The URI's {name} placeholders take the
// mapped integration path parameters; a proxy passes the request's method (for ANY), headers
// and query string through.
func (s *Server) callHTTP(ctx context.Context, in *Integration, req *execRequest, body []byte, proxy bool) (*integrationResult, *gatewayError) {
	pathParams, query, header := integrationParams(in, req)
	target := in.URI
	for name, v := range pathParams {
		// Segments are escaped one by one so a greedy value keeps its slashes.
		segs := strings.Split(v, "/")
		for i, seg := range segs {
			segs[i] = url.PathEscape(seg)
		}
		escaped := strings.Join(segs, "/")
		target = strings.ReplaceAll(target, "{"+name+"+}", escaped)
		target = strings.ReplaceAll(target, "{"+name+"}", escaped)
	}
	u, err := url.Parse(target)
	if err != nil || strings.Contains(u.Path, "{") {
		return nil, configError(req, "integration URI %s: unmapped or invalid path parameters", in.URI)
	}
	q := u.Query()
	if proxy {
		for k, v := range req.query {
			q.Set(k, v)
		}
	}
	for k, v := range query {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	method := in.HTTPMethod
	if method == "ANY" {
		method = req.httpMethod
	}
	timeout := time.Duration(in.TimeoutInMillis) * time.Millisecond
	if timeout <= 0 {
		timeout = 29 * time.Second
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(cctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, configError(req, "integration request %s %s: %v", method, u, err)
	}
	if proxy {
		for k, vs := range req.header {
			if !hopHeaders[http.CanonicalHeaderKey(k)] {
				hr.Header[k] = append([]string(nil), vs...)
			}
		}
	} else if ct := req.header.Get("Content-Type"); ct != "" {
		hr.Header.Set("Content-Type", ct)
	}
	for k, vs := range header {
		hr.Header[k] = vs
	}
	resp, err := httpClient.Do(hr)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || cctx.Err() != nil {
			return nil, errTimeout
		}
		return nil, configError(req, "calling %s %s: %v", method, u, err)
	}
	// Closing only releases the connection; read errors are reported below.
	defer func() { _ = resp.Body.Close() }()
	respBody, err := io.ReadAll(io.LimitReader(resp.Body, maxPayload+1))
	if err != nil {
		if cctx.Err() != nil {
			return nil, errTimeout
		}
		return nil, configError(req, "reading %s %s: %v", method, u, err)
	}
	if len(respBody) > maxPayload {
		return nil, configError(req, "%s %s answered more than %d bytes", method, u, maxPayload)
	}
	out := http.Header{}
	for k, vs := range resp.Header {
		if !hopHeaders[k] {
			out[k] = vs
		}
	}
	return &integrationResult{status: resp.StatusCode, header: out, body: respBody}, nil
}
