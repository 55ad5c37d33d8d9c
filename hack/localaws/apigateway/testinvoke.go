package apigateway

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// testInvokeInput is TestInvokeMethod's request:
// https://docs.aws.amazon.com/apigateway/latest/api/API_TestInvokeMethod.html
type testInvokeInput struct {
	PathWithQueryString string              `json:"pathWithQueryString"`
	Body                string              `json:"body"`
	Headers             map[string]string   `json:"headers"`
	MultiValueHeaders   map[string][]string `json:"multiValueHeaders"`
	StageVariables      map[string]string   `json:"stageVariables"`
}

type testInvokeOutput struct {
	Status            int                 `json:"status"`
	Body              string              `json:"body"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Latency           int64               `json:"latency"`
	Log               string              `json:"log"`
}

// testInvoke runs a method of the API as it is now (deployed or not), the way the console's
// Test button does, and reports what execute-api would have answered.
func (s *Server) testInvoke(ctx context.Context, c *call) (int, any, error) {
	var in testInvokeInput
	if err := c.decode(&in); err != nil {
		return 0, nil, err
	}
	apiID, resID, hm := c.segs[1], c.segs[3], strings.ToUpper(c.segs[5])

	s.mu.Lock()
	a, ok := s.apis[apiID]
	if !ok {
		s.mu.Unlock()
		return 0, nil, notFound("Invalid API identifier specified %s:%s", s.account, apiID)
	}
	res, ok := a.resources[resID]
	if !ok {
		s.mu.Unlock()
		return 0, nil, notFound("Invalid Resource identifier specified")
	}
	if _, ok := res.ResourceMethods[hm]; !ok {
		s.mu.Unlock()
		return 0, nil, notFound("Invalid Method identifier specified")
	}
	snap := deepCopy(&snapshot{Resources: a.resources, Models: a.models, Validators: a.validators, BinaryMediaTypes: a.BinaryMediaTypes})
	s.mu.Unlock()

	res = snap.Resources[resID]
	m := res.ResourceMethods[hm]
	if m.MethodIntegration == nil {
		return 0, nil, badRequest("No integration defined for method")
	}
	u, err := url.Parse(in.PathWithQueryString)
	if err != nil {
		return 0, nil, badRequest("Invalid pathWithQueryString: %v", err)
	}
	path := u.Path
	if path == "" {
		path = res.Path
	}
	var segs []string
	for _, p := range strings.Split(strings.Trim(path, "/"), "/") {
		if p != "" {
			segs = append(segs, p)
		}
	}
	params := map[string]string{}
	if matched, p := matchResource(snap, segs); matched != nil && matched.ID == resID {
		params = p
	}
	header := http.Header{}
	for k, v := range in.Headers {
		header.Set(k, v)
	}
	for k, vs := range in.MultiValueHeaders {
		for _, v := range vs {
			header.Add(k, v)
		}
	}
	start := time.Now()
	var log strings.Builder
	logf := func(format string, args ...any) {
		fmt.Fprintf(&log, format+"\n", args...)
		s.logf(format, args...)
	}
	req := &execRequest{
		requestID: newUUID(), apiID: apiID, stage: "test-invoke-stage", httpMethod: hm, path: res.Path,
		resource: res, pathParams: params, query: map[string]string{}, header: header, body: []byte(in.Body),
		contentType: contentTypeOf(header), sourceIP: "test-invoke-source-ip", userAgent: header.Get("User-Agent"),
		host: "testinvoke", start: start, stageVars: in.StageVariables, logf: logf,
	}
	for k, v := range u.Query() {
		if len(v) > 0 {
			req.query[k] = v[len(v)-1]
		}
	}
	fmt.Fprintf(&log, "Execution log for request %s\nStarting execution for request: %s\nHTTP Method: %s, Resource Path: %s\n", req.requestID, req.requestID, hm, res.Path)
	out := testInvokeOutput{Headers: map[string]string{}, MultiValueHeaders: map[string][]string{}}
	var respHeader http.Header
	if gerr := validateRequest(snap, apiID, m, req); gerr != nil {
		out.Status, out.Body = gerr.status, gatewayBody(gerr)
		fmt.Fprintf(&log, "Request validation failed: %s\n", gerr.message)
	} else if resp, gerr := s.integrate(ctx, m, req); gerr != nil {
		out.Status, out.Body = gerr.status, gatewayBody(gerr)
		fmt.Fprintf(&log, "Execution failed: %s\n", gerr.message)
	} else {
		out.Status, out.Body, respHeader = resp.status, string(resp.body), resp.header
	}
	keys := make([]string, 0, len(respHeader))
	for k := range respHeader {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out.Headers[k] = respHeader.Get(k)
		out.MultiValueHeaders[k] = respHeader.Values(k)
	}
	out.Latency = time.Since(start).Milliseconds()
	fmt.Fprintf(&log, "Method completed with status: %d\n", out.Status)
	out.Log = log.String()
	return http.StatusOK, out, nil
}
