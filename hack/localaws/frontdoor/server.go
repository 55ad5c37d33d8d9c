// Package frontdoor is the local AWS stack's single HTTP endpoint. It sits in
// front of an in-process kumo emulator: requests kumo answers as AWS does are
// proxied to it unchanged; the operations kumo lacks or gets wrong in ways a
// controller cannot tolerate are answered here, mostly by composing kumo's
// own API calls; Lambda code is handed to a runner that executes it; API
// Gateway REST is served by a separate handler.
//
// Requests are routed as AWS routes them at separate hostnames: by the
// service name in the SigV4 credential scope, and for JSON protocols by
// X-Amz-Target.
package frontdoor

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/resize-operator/resize-operator/hack/localaws/lambdarunner"
)

// APIGateway serves API Gateway REST: the control plane and execute-api.
type APIGateway interface {
	ServeHTTP(w http.ResponseWriter, r *http.Request)
	ServeExecuteAPI(w http.ResponseWriter, r *http.Request)
}

// Options configures a Server.
type Options struct {
	// KumoURL is the base URL of the in-process kumo server.
	KumoURL string
	// Endpoint is this server's own base URL, as clients reach it.
	Endpoint string
	// Region is the region the stack reports.
	Region string
	// Runner executes Lambda functions; nil disables execution.
	Runner *lambdarunner.Runner
	// Logger receives the front door's own diagnostics.
	Logger *slog.Logger
}

// Server is the front door. Its zero value is not usable; call New.
type Server struct {
	opts   Options
	kumo   *url.URL
	proxy  *httputil.ReverseProxy
	client *http.Client
	log    *slog.Logger

	ready atomic.Bool
	apigw atomic.Pointer[apigwHolder]

	// sfnMu lets UpdateStateMachine replace a state machine in kumo while no
	// other Step Functions call can observe it missing.
	sfnMu sync.RWMutex
	// updated remembers, for state machines UpdateStateMachine re-created
	// in kumo, the first creation date (DescribeStateMachine keeps it) and
	// the current revision ID (kumo does not return one).
	updatedMu sync.Mutex
	updated   map[string]machineOverlay

	// inflight holds, per function process, the Runtime API request IDs it
	// has taken and not yet answered, so a crash can fail them at once;
	// active counts, per function, the invocations in progress.
	inflightMu sync.Mutex
	inflight   map[string]map[string]struct{}
	active     map[string]int
}

type apigwHolder struct{ h APIGateway }

// New returns a front door for the kumo server at opts.KumoURL.
func New(opts Options) (*Server, error) {
	u, err := url.Parse(opts.KumoURL)
	if err != nil {
		return nil, fmt.Errorf("parse kumo URL: %w", err)
	}

	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}

	s := &Server{
		opts: opts,
		kumo: u,
		// kumo's Step Functions waits up to 30 s for a task; the client
		// timeout only guards against a wedged emulator.
		client:   &http.Client{Timeout: 2 * time.Minute},
		log:      opts.Logger,
		updated:  make(map[string]machineOverlay),
		inflight: make(map[string]map[string]struct{}),
		active:   make(map[string]int),
	}

	s.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			// kumo reads S3 virtual-hosted bucket names from Host.
			pr.Out.Host = pr.In.Host
		},
		// Runtime API long polls and streamed objects pass through as
		// they come.
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() != nil {
				return
			}

			s.log.Error("proxy to kumo failed", "path", r.URL.Path, "err", err)
			writeJSONError(w, http.StatusBadGateway, "ServiceException", "local stack: emulator unreachable: "+err.Error())
		},
	}

	return s, nil
}

// SetAPIGateway installs the API Gateway REST handler. Until one is set,
// API Gateway requests go to kumo.
func (s *Server) SetAPIGateway(h APIGateway) {
	s.apigw.Store(&apigwHolder{h: h})
}

// SetReady makes the health endpoint answer 200.
func (s *Server) SetReady() { s.ready.Store(true) }

// ServeHTTP routes one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		// A malformed request must never take the stack down.
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}

			s.log.Error("handler panic", "path", r.URL.Path, "panic", v)
			writeJSONError(w, http.StatusInternalServerError, "InternalFailure", fmt.Sprint(v))
		}
	}()

	path := r.URL.Path

	switch {
	case path == "/_localaws/health":
		s.serveHealth(w)

		return
	case strings.HasPrefix(path, "/_localaws/lambda-code/"):
		s.serveCode(w, r, strings.TrimPrefix(path, "/_localaws/lambda-code/"))

		return
	case strings.HasPrefix(path, "/_runtime/"), strings.HasPrefix(path, lambdarunner.ProcessPrefix):
		s.serveRuntime(w, r)

		return
	case isExecuteAPIPath(path):
		if h := s.apigw.Load(); h != nil {
			h.h.ServeExecuteAPI(w, r)

			return
		}
	}

	if id, ok := executeAPIHost(r.Host); ok {
		if h := s.apigw.Load(); h != nil {
			// https://{id}.execute-api.{region}.amazonaws.com/{stage}/{path}
			// is served as its path form.
			r2 := r.Clone(r.Context())
			r2.URL.RawPath = ""

			if parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 2); len(parts) == 2 {
				r2.URL.Path = "/restapis/" + id + "/" + parts[0] + "/_user_request_/" + parts[1]
			} else {
				r2.URL.Path = "/restapis/" + id + "/" + parts[0] + "/_user_request_/"
			}

			h.h.ServeExecuteAPI(w, r2)

			return
		}
	}

	switch signingName(r) {
	case "apigateway":
		if h := s.apigw.Load(); h != nil {
			h.h.ServeHTTP(w, r)

			return
		}
	case "lambda":
		if s.serveLambda(w, r) {
			return
		}
	case "iam":
		if s.serveIAM(w, r) {
			return
		}
	case "states":
		s.serveSFN(w, r)

		return
	case "s3":
		if s.serveS3(w, r) {
			return
		}
	}

	if strings.HasPrefix(r.Header.Get("X-Amz-Target"), "AWSStepFunctions.") {
		s.serveSFN(w, r)

		return
	}

	s.proxy.ServeHTTP(w, r)
}

// isExecuteAPIPath matches LocalStack's path form of an invoke URL:
// /restapis/{id}/{stage}/_user_request_/{path...}.
func isExecuteAPIPath(p string) bool {
	parts := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 5)

	return len(parts) >= 4 && parts[0] == "restapis" && parts[3] == "_user_request_"
}

// executeAPIHost recognises an API Gateway invoke host,
// {restApiId}.execute-api.<anything>.
func executeAPIHost(host string) (string, bool) {
	id, rest, ok := strings.Cut(host, ".")
	if !ok || id == "" || !strings.HasPrefix(rest, "execute-api.") {
		return "", false
	}

	return id, true
}

func (s *Server) serveHealth(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")

	if !s.ready.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status":"starting"}`))

		return
	}

	_ = json.NewEncoder(w).Encode(map[string]any{
		"status":   "ready",
		"service":  "localaws",
		"endpoint": s.opts.Endpoint,
		"region":   s.opts.Region,
		"pid":      os.Getpid(),
		"build":    buildID(),
	})
}

var (
	buildOnce sync.Once
	build     string
)

// buildID identifies the running binary by the SHA-256 of its file, so a
// client (the stack's own tests) can tell whether a stack already running
// was built from the code it expects.
func buildID() string {
	buildOnce.Do(func() {
		exe, err := os.Executable()
		if err != nil {
			return
		}

		f, err := os.Open(exe)
		if err != nil {
			return
		}
		defer func() { _ = f.Close() }() // opened for reading only

		h := sha256.New()
		if _, err := io.Copy(h, f); err == nil {
			build = hex.EncodeToString(h.Sum(nil))
		}
	})

	return build
}

// signingName returns the service of the request's SigV4 credential scope
// (Authorization header, or X-Amz-Credential for presigned URLs).
func signingName(r *http.Request) string {
	cred := ""

	if auth := r.Header.Get("Authorization"); auth != "" {
		if i := strings.Index(auth, "Credential="); i >= 0 {
			cred = auth[i+len("Credential="):]
			if end := strings.IndexAny(cred, ", "); end >= 0 {
				cred = cred[:end]
			}
		}
	} else {
		cred = r.URL.Query().Get("X-Amz-Credential")
	}

	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return ""
	}

	return parts[3]
}

// kumoInternal reports whether a request is one of kumo's calls to itself
// (e.g. Step Functions invoking Lambda), which kumo signs with this fixed,
// never-valid credential.
func kumoInternal(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Authorization"), "Credential=kumo/19700101/")
}

// scopeHeader is an Authorization header whose credential scope names
// service; kumo routes by it and does not check signatures.
func (s *Server) scopeHeader(service string) string {
	return "AWS4-HMAC-SHA256 Credential=localaws/20000101/" + s.opts.Region + "/" + service +
		"/aws4_request, SignedHeaders=host, Signature=localaws"
}

// kumoResponse is a buffered answer from kumo.
type kumoResponse struct {
	status int
	header http.Header
	body   []byte
}

// callKumo sends one request to kumo and buffers the answer.
func (s *Server) callKumo(ctx context.Context, method, path string, header http.Header, body []byte) (*kumoResponse, error) {
	u := *s.kumo
	u.Path = path

	if i := strings.IndexByte(path, '?'); i >= 0 {
		u.Path, u.RawQuery = path[:i], path[i+1:]
	}

	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}

	for k, v := range header {
		req.Header[k] = v
	}

	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }() // read in full below; ReadAll reports failures

	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}

	return &kumoResponse{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// forward sends r (with body) to kumo and buffers the answer, so the front
// door can look at or patch it before the client sees it.
func (s *Server) forward(r *http.Request, body []byte) (*kumoResponse, error) {
	rec := httptest.NewRecorder()
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	s.proxy.ServeHTTP(rec, r2)

	res := rec.Result()
	defer func() { _ = res.Body.Close() }() // a recorder's in-memory body

	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}

	return &kumoResponse{status: res.StatusCode, header: res.Header, body: b}, nil
}

// write sends a buffered response with a new body.
func (kr *kumoResponse) write(w http.ResponseWriter, body []byte) {
	for k, v := range kr.header {
		if strings.EqualFold(k, "Content-Length") {
			continue
		}

		w.Header()[k] = v
	}

	w.WriteHeader(kr.status)
	_, _ = w.Write(body)
}

// writeJSONError writes an error in the AWS JSON protocols' shape.
func writeJSONError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": message})
}

// readBody buffers a request body, bounded so a runaway client cannot
// exhaust memory (Lambda's zipped-package upload limit is 50 MB; base64
// inflates it by a third).
func readBody(r *http.Request) ([]byte, error) {
	const limit = 80 << 20

	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, err
	}

	if len(b) > limit {
		return nil, fmt.Errorf("request body larger than %d bytes", limit)
	}

	return b, nil
}
