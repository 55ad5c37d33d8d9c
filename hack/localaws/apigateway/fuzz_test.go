package apigateway

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzServe sends arbitrary methods, paths and bodies to both planes of a server holding one
// deployed API; whatever arrives, the answer is an AWS-shaped error or success, never a panic
// (which ServeHTTP would turn into a 500).
func FuzzServe(f *testing.F) {
	for _, s := range []string{
		"POST /restapis {\"name\":\"x\"}",
		"PATCH /restapis/ID {\"patchOperations\":[{\"op\":\"replace\",\"path\":\"/name\",\"value\":\"y\"}]}",
		"POST /restapis/ID/resources/ROOT {\"pathPart\":\"{p+}\"}",
		"PUT /restapis/ID/resources/RES/methods/GET {\"authorizationType\":\"NONE\",\"requestModels\":{\"a\":\"Empty\"}}",
		"PATCH /restapis/ID/stages/prod {\"patchOperations\":[{\"op\":\"add\",\"path\":\"/~1a~1/GET/metrics/enabled\",\"value\":\"true\"}]}",
		"POST /restapis/ID/deployments {\"stageName\":\"prod\"}",
		"PUT /tags/arn:aws:apigateway:us-east-1::/restapis/ID {\"tags\":{\"a\":\"b\"}}",
		"POST /restapis/ID/prod/_user_request_/items/1 {\"a\":1}",
		"GET /restapis/ID/prod/_user_request_/ ",
	} {
		method, rest, _ := strings.Cut(s, " ")
		path, body, _ := strings.Cut(rest, " ")
		f.Add(method, path, body)
	}
	f.Fuzz(func(t *testing.T, method, path, body string) {
		s := New(Options{Invoker: &fakeInvoker{status: 200, body: "{}"}})
		s.logf = t.Logf
		id, root := seedForFuzz(t, s)
		path = strings.NewReplacer("ID", id, "ROOT", root).Replace(path)
		u, err := url.Parse("http://localhost" + path)
		if err != nil || !strings.HasPrefix(u.Path, "/") {
			return
		}
		if method == "" || strings.ContainsAny(method, " \t\r\n/") {
			method = http.MethodGet
		}
		r := &http.Request{Method: method, URL: u, Header: http.Header{}, Body: http.NoBody, Host: "localhost"}
		if body != "" {
			r = httptest.NewRequest(http.MethodGet, "http://localhost/", strings.NewReader(body))
			r.Method, r.URL = method, u
		}
		w := httptest.NewRecorder()
		if strings.Contains(u.Path, "/_user_request_") {
			s.ServeExecuteAPI(w, r)
		} else {
			s.ServeHTTP(w, r)
		}
		if w.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", method, path, body, w.Code, w.Body)
		}
	})
}

// seedForFuzz creates a deployed API with a MOCK method, straight through the handlers.
func seedForFuzz(t *testing.T, s *Server) (id, root string) {
	call := func(method, path, body string) {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest(method, "http://localhost"+path, strings.NewReader(body)))
		if w.Code >= 300 {
			t.Fatalf("seed %s %s: %d %s", method, path, w.Code, w.Body)
		}
	}
	call("POST", "/restapis", `{"name":"fuzz"}`)
	for k, a := range s.apis {
		id, root = k, a.RootResourceID
	}
	call("PUT", "/restapis/"+id+"/resources/"+root+"/methods/ANY", `{"authorizationType":"NONE"}`)
	call("PUT", "/restapis/"+id+"/resources/"+root+"/methods/ANY/integration", `{"type":"MOCK","requestTemplates":{"application/json":"{\"statusCode\": 200}"}}`)
	call("PUT", "/restapis/"+id+"/resources/"+root+"/methods/ANY/responses/200", `{}`)
	call("PUT", "/restapis/"+id+"/resources/"+root+"/methods/ANY/integration/responses/200", `{"responseTemplates":{"application/json":"$input.params()"}}`)
	call("POST", "/restapis/"+id+"/deployments", `{"stageName":"prod"}`)
	return id, root
}
