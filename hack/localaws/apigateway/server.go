// Package apigateway serves Amazon API Gateway REST APIs (version 1) for the local AWS stack: the
// control plane the SDK and the AWS CLI talk to, and execute-api, which runs a stage's deployed
// snapshot of an API through its mapping templates and integrations.
//
// Every object lives in memory behind one mutex; a deployment is a deep copy of the API taken at
// CreateDeployment, so execute-api never sees an undeployed change.
package apigateway

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// ServiceInvoker calls another AWS service of the stack on behalf of an `AWS` integration.
type ServiceInvoker interface {
	// Invoke calls action (e.g. "StartExecution") of an AWS service (e.g. "states") with a JSON body,
	// as the service itself would answer it.
	Invoke(ctx context.Context, service, action string, body []byte) (status int, header http.Header, respBody []byte, err error)
}

// Options configures a Server.
type Options struct {
	Region    string
	AccountID string
	Invoker   ServiceInvoker
}

// Server holds every REST API of the stack.
type Server struct {
	region, account string
	invoker         ServiceInvoker
	now             func() time.Time
	// logf reports why execute-api answered 500 (the client only sees API Gateway's body).
	logf func(format string, args ...any)

	mu   sync.Mutex
	apis map[string]*api
	seq  int64
}

// api is a REST API with everything that hangs below it.
type api struct {
	RestAPI
	seq         int64
	resources   map[string]*Resource
	models      map[string]*Model
	validators  map[string]*RequestValidator
	deployments map[string]*deployment
	stages      map[string]*Stage
}

// deployment pairs the public Deployment with the frozen API it serves.
type deployment struct {
	Deployment
	seq  int64
	snap *snapshot
}

// snapshot is what execute-api needs of an API, copied at deployment time.
type snapshot struct {
	Resources        map[string]*Resource
	Models           map[string]*Model
	Validators       map[string]*RequestValidator
	BinaryMediaTypes []string

	// schemas caches compiled models by name; a snapshot never changes, so neither do they.
	schemas sync.Map
}

// maxBody bounds control-plane request bodies; API Gateway's own import limit is a few MB.
const maxBody = 10 << 20

// New returns an empty API Gateway.
func New(opts Options) *Server {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.AccountID == "" {
		opts.AccountID = "000000000000"
	}
	return &Server{
		region:  opts.Region,
		account: opts.AccountID,
		invoker: opts.Invoker,
		now:     time.Now,
		logf:    log.Printf,
		apis:    map[string]*api{},
	}
}

// apiError is an error API Gateway would return: its type goes to X-Amzn-Errortype, where the SDK
// reads it, and its message to the JSON body.
type apiError struct {
	status  int
	typ     string
	message string
}

func (e *apiError) Error() string { return e.typ + ": " + e.message }

func notFound(format string, a ...any) error {
	return &apiError{http.StatusNotFound, "NotFoundException", fmt.Sprintf(format, a...)}
}

func conflict(format string, a ...any) error {
	return &apiError{http.StatusConflict, "ConflictException", fmt.Sprintf(format, a...)}
}

func badRequest(format string, a ...any) error {
	return &apiError{http.StatusBadRequest, "BadRequestException", fmt.Sprintf(format, a...)}
}

// errorTypeSuffix is what AWS appends to the error type; the SDK strips everything after ':'.
const errorTypeSuffix = ":http://internal.amazon.com/coral/com.amazon.backplane.restapi/"

func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{http.StatusInternalServerError, "InternalFailure", err.Error()}
	}
	w.Header().Set("X-Amzn-Errortype", ae.typ+errorTypeSuffix)
	writeJSON(w, ae.status, map[string]string{"message": ae.message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Requestid", newUUID())
	if v == nil {
		w.WriteHeader(status)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"message":"internal error"}`)
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// call is one parsed control-plane request.
type call struct {
	r     *http.Request
	segs  []string // unescaped path segments
	body  []byte
	query url.Values
}

// decode reads the JSON body into v. An empty body is an empty object, as for the SDK's calls
// that have no body members set.
func (c *call) decode(v any) error {
	if len(strings.TrimSpace(string(c.body))) == 0 {
		return nil
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		return badRequest("Invalid request body: %s", jsonErrorText(err))
	}
	return nil
}

func jsonErrorText(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q must be %s, not %s", te.Field, te.Type.Kind(), te.Value)
	}
	return err.Error()
}

// ServeHTTP serves the API Gateway control plane: every request whose SigV4 scope is "apigateway".
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		// A bug in one handler must not take the whole stack down; the client sees a 500.
		if p := recover(); p != nil {
			writeError(w, fmt.Errorf("internal error: %v", p))
		}
	}()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		writeError(w, badRequest("could not read request body: %v", err))
		return
	}
	if len(body) > maxBody {
		writeError(w, &apiError{http.StatusRequestEntityTooLarge, "LimitExceededException", "Request body is too large"})
		return
	}
	c := &call{r: r, body: body, query: r.URL.Query()}
	raw := r.URL.EscapedPath()
	if strings.HasPrefix(raw, "/tags/") {
		arn, err := url.PathUnescape(strings.TrimPrefix(raw, "/tags/"))
		if err != nil {
			writeError(w, badRequest("Invalid resource ARN"))
			return
		}
		status, out, err := s.tags(c, arn)
		respond(w, status, out, err)
		return
	}
	for _, p := range strings.Split(strings.Trim(raw, "/"), "/") {
		seg, err := url.PathUnescape(p)
		if err != nil {
			writeError(w, badRequest("Invalid path segment %q", p))
			return
		}
		c.segs = append(c.segs, seg)
	}
	if r.Method == http.MethodPost && len(c.segs) == 6 && c.segs[0] == "restapis" && c.segs[2] == "resources" && c.segs[4] == "methods" {
		// TestInvokeMethod runs the integration, so it must not hold the store's lock.
		status, out, err := s.testInvoke(r.Context(), c)
		respond(w, status, out, err)
		return
	}
	status, out, err := s.route(c)
	respond(w, status, out, err)
}

func respond(w http.ResponseWriter, status int, out any, err error) {
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, status, out)
}

func unknownOperation(c *call) error {
	return &apiError{http.StatusNotFound, "UnknownOperationException",
		fmt.Sprintf("Unsupported operation %s %s", c.r.Method, c.r.URL.Path)}
}

// route dispatches on the path shape of the API Gateway REST reference.
func (s *Server) route(c *call) (int, any, error) {
	segs, m := c.segs, c.r.Method
	if len(segs) == 0 || segs[0] != "restapis" {
		return 0, nil, unknownOperation(c)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(segs) == 1 {
		switch m {
		case http.MethodGet:
			return s.getRestAPIs(c)
		case http.MethodPost:
			if c.query.Get("mode") == "import" {
				return 0, nil, unknownOperation(c)
			}
			return s.createRestAPI(c)
		}
		return 0, nil, unknownOperation(c)
	}
	a, ok := s.apis[segs[1]]
	if !ok {
		return 0, nil, notFound("Invalid API identifier specified %s:%s", s.account, segs[1])
	}
	if len(segs) == 2 {
		switch m {
		case http.MethodGet:
			return http.StatusOK, a.RestAPI, nil
		case http.MethodPatch:
			return s.updateRestAPI(c, a)
		case http.MethodDelete:
			delete(s.apis, a.ID)
			return http.StatusAccepted, nil, nil
		}
		return 0, nil, unknownOperation(c)
	}
	switch segs[2] {
	case "resources":
		return s.routeResources(c, a, segs[3:])
	case "models":
		return s.routeModels(c, a, segs[3:])
	case "requestvalidators":
		return s.routeValidators(c, a, segs[3:])
	case "deployments":
		return s.routeDeployments(c, a, segs[3:])
	case "stages":
		return s.routeStages(c, a, segs[3:])
	}
	return 0, nil, unknownOperation(c)
}

// idAlphabet and the lengths below mimic AWS's identifiers (e.g. "a1b2c3d4e5" for an API).
const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

func newID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return string(b)
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// page applies API Gateway's limit/position pagination to a list already in its final order.
// position is the index of the next item, which is opaque enough for clients.
func page[T any](c *call, items []T) (out []T, position string, err error) {
	start := 0
	if p := c.query.Get("position"); p != "" {
		if _, err := fmt.Sscanf(p, "%d", &start); err != nil || start < 0 {
			return nil, "", badRequest("Invalid position parameter")
		}
	}
	limit := 25
	if l := c.query.Get("limit"); l != "" {
		if _, err := fmt.Sscanf(l, "%d", &limit); err != nil || limit < 1 || limit > 500 {
			return nil, "", badRequest("Invalid limit parameter")
		}
	}
	if start > len(items) {
		start = len(items)
	}
	end := start + limit
	if end < len(items) {
		position = fmt.Sprint(end)
	} else {
		end = len(items)
	}
	return items[start:end], position, nil
}

// listResult is the shape of every Get…s answer: {"item": [...], "position": "..."}.
type listResult[T any] struct {
	Item     []T    `json:"item"`
	Position string `json:"position,omitempty"`
}

func list[T any](c *call, items []T) (int, any, error) {
	out, pos, err := page(c, items)
	if err != nil {
		return 0, nil, err
	}
	if out == nil {
		out = []T{}
	}
	return http.StatusOK, listResult[T]{Item: out, Position: pos}, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// deepCopy copies a value through its JSON form; the store types are plain data, so this is
// exact and keeps snapshots independent of later edits.
func deepCopy[T any](v T) T {
	var out T
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}
