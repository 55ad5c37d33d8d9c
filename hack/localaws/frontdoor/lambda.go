package frontdoor

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/resize-operator/resize-operator/hack/localaws/lambdarunner"
)

// lambdaRoute is a parsed Lambda REST path /2015-03-31/functions[/{name}[/{sub}]].
type lambdaRoute struct {
	name string // function name, with any ARN prefix or qualifier removed
	sub  string // "", "code", "configuration", "invocations", ...
	list bool
}

func parseLambdaPath(p string) (lambdaRoute, bool) {
	rest, ok := strings.CutPrefix(p, "/2015-03-31/functions")
	if !ok {
		return lambdaRoute{}, false
	}

	rest = strings.Trim(rest, "/")
	if rest == "" {
		return lambdaRoute{list: true}, true
	}

	parts := strings.Split(rest, "/")
	rt := lambdaRoute{name: functionName(parts[0])}

	if len(parts) > 1 {
		rt.sub = parts[1]
	}

	return rt, true
}

// functionName reduces a FunctionName parameter (name, full or partial ARN,
// optional qualifier) to the name.
func functionName(v string) string {
	if i := strings.Index(v, "function:"); i >= 0 {
		v = v[i+len("function:"):]
	}

	if i := strings.IndexByte(v, ':'); i >= 0 {
		v = v[:i]
	}

	return v
}

// serveLambda handles the Lambda calls whose behaviour the stack adds to;
// it reports false for those kumo answers alone.
func (s *Server) serveLambda(w http.ResponseWriter, r *http.Request) bool {
	rt, ok := parseLambdaPath(r.URL.Path)
	if !ok || s.opts.Runner == nil {
		return false
	}

	switch {
	case rt.list && r.Method == http.MethodPost:
		s.lambdaDeploy(w, r)
	case rt.list && r.Method == http.MethodGet:
		s.lambdaPatched(w, r, "Functions")
	case rt.sub == "" && r.Method == http.MethodGet:
		s.lambdaPatched(w, r, "Configuration")
	case rt.sub == "" && r.Method == http.MethodDelete:
		s.lambdaDelete(w, r, rt.name)
	case rt.sub == "code" && r.Method == http.MethodPut:
		s.lambdaDeploy(w, r)
	case rt.sub == "configuration" && r.Method == http.MethodGet:
		s.lambdaPatched(w, r, "")
	case rt.sub == "configuration" && r.Method == http.MethodPut:
		s.lambdaReconfigure(w, r)
	case rt.sub == "invocations" && r.Method == http.MethodPost:
		s.lambdaInvoke(w, r, rt.name)
	default:
		return false
	}

	return true
}

// deployRequest holds the fields of CreateFunction and UpdateFunctionCode
// that carry code.
type deployRequest struct {
	ZipFile  []byte
	S3Bucket string
	S3Key    string
	Code     *struct {
		ZipFile  []byte
		S3Bucket string
		S3Key    string
	}
	DryRun bool
}

// lambdaDeploy handles CreateFunction and UpdateFunctionCode: kumo
// records the function; the runner gets the package, which kumo does not
// keep in a form it serves back.
func (s *Server) lambdaDeploy(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		writeLambdaError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", err.Error())

		return
	}

	var req deployRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeLambdaError(w, http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json: "+err.Error())

		return
	}

	if req.Code != nil {
		req.ZipFile, req.S3Bucket, req.S3Key = req.Code.ZipFile, req.Code.S3Bucket, req.Code.S3Key
	}

	zipBytes := req.ZipFile
	if len(zipBytes) == 0 && req.S3Bucket != "" && req.S3Key != "" {
		zipBytes, err = s.getObject(r.Context(), req.S3Bucket, req.S3Key)
		if err != nil {
			writeLambdaError(w, http.StatusBadRequest, "InvalidParameterValueException",
				"Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: "+err.Error())

			return
		}
	}

	began := time.Now()

	kr, err := s.forward(r, body)
	if err != nil {
		writeLambdaError(w, http.StatusBadGateway, "ServiceException", err.Error())

		return
	}

	recorded := time.Since(began)

	if kr.status/100 != 2 || req.DryRun || len(zipBytes) == 0 {
		kr.write(w, kr.body)

		return
	}

	fn, err := functionFromConfig(kr.body)
	if err != nil {
		kr.write(w, kr.body)

		return
	}

	// A failed package is recorded in the function's status, as Lambda
	// reports it; the API call itself succeeded.
	if err := s.opts.Runner.Deploy(r.Context(), fn, zipBytes); err != nil {
		var be *lambdarunner.BundleError
		if !errors.As(err, &be) {
			s.log.Error("deploy function", "function", fn.Name, "err", err)
		}
	}

	s.log.Debug("deployed function", "function", fn.Name, "kumo", recorded, "run", time.Since(began)-recorded)

	kr.write(w, s.patchConfig(kr.body, ""))
}

// lambdaReconfigure handles UpdateFunctionConfiguration: a change in what
// the process sees restarts it.
func (s *Server) lambdaReconfigure(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		writeLambdaError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", err.Error())

		return
	}

	kr, err := s.forward(r, body)
	if err != nil {
		writeLambdaError(w, http.StatusBadGateway, "ServiceException", err.Error())

		return
	}

	if kr.status == http.StatusOK {
		if fn, err := functionFromConfig(kr.body); err == nil {
			if err := s.opts.Runner.Reconfigure(r.Context(), fn); err != nil {
				s.log.Error("reconfigure function", "function", fn.Name, "err", err)
			}
		}
	}

	kr.write(w, s.patchConfig(kr.body, ""))
}

func (s *Server) lambdaDelete(w http.ResponseWriter, r *http.Request, name string) {
	kr, err := s.forward(r, nil)
	if err != nil {
		writeLambdaError(w, http.StatusBadGateway, "ServiceException", err.Error())

		return
	}

	if kr.status/100 == 2 {
		s.opts.Runner.Remove(name)
	}

	kr.write(w, kr.body)
}

// lambdaPatched proxies a read and overlays the runner's view of the
// function's state. key names the object holding the configuration
// ("Configuration" in GetFunction, "Functions" in ListFunctions, "" when the
// body is the configuration).
func (s *Server) lambdaPatched(w http.ResponseWriter, r *http.Request, key string) {
	kr, err := s.forward(r, nil)
	if err != nil {
		writeLambdaError(w, http.StatusBadGateway, "ServiceException", err.Error())

		return
	}

	if kr.status != http.StatusOK {
		kr.write(w, kr.body)

		return
	}

	kr.write(w, s.patchConfig(kr.body, key))
}

// lambdaInvoke guards invokes of functions that cannot run and turns
// function errors into task failures for kumo's own Step Functions.
func (s *Server) lambdaInvoke(w http.ResponseWriter, r *http.Request, name string) {
	if st, ok := s.opts.Runner.Status(name); ok && st.State == "Failed" {
		// https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors
		writeLambdaError(w, http.StatusConflict, "ResourceConflictException",
			"The operation cannot be performed at this time. The function is currently in the following state: Failed")

		return
	}

	if err := s.opts.Runner.InitError(name); err != nil && r.Header.Get("X-Amz-Invocation-Type") != "Event" {
		// The bootstrap keeps exiting before it polls: Lambda answers with
		// the runtime's exit at once, and so does the stack, rather than
		// leaving the invoke to wait 30 s for a handler.
		payload, _ := json.Marshal(map[string]string{
			"errorType":    "Runtime.ExitError",
			"errorMessage": "RequestId: " + uuid.NewString() + " Error: Runtime exited with error: " + err.Error(),
		})

		status := http.StatusOK
		if kumoInternal(r) {
			status = http.StatusInternalServerError
		}

		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		w.Header().Set("X-Amz-Executed-Version", "$LATEST")
		w.WriteHeader(status)
		_, _ = w.Write(payload)

		return
	}

	// Concurrent invocations run side by side, as on Lambda, instead of
	// queueing behind one process.
	s.opts.Runner.ScaleTo(name, s.activeDelta(name, 1))
	defer s.activeDelta(name, -1)

	if !kumoInternal(r) {
		s.proxy.ServeHTTP(w, r)

		return
	}

	body, err := readBody(r)
	if err != nil {
		writeLambdaError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", err.Error())

		return
	}

	kr, err := s.forward(r, body)
	if err != nil {
		writeLambdaError(w, http.StatusBadGateway, "ServiceException", err.Error())

		return
	}

	// Step Functions treats a Lambda function error as the Task's failure
	// (Retry and Catch apply). kumo's engine only fails a Task on a non-200
	// answer, so its own invokes see function errors as one.
	if kr.status == http.StatusOK && kr.header.Get("X-Amz-Function-Error") != "" {
		kr.status = http.StatusInternalServerError
	}

	kr.write(w, kr.body)
}

// functionFromConfig reads the runner's view of a function from a Lambda
// FunctionConfiguration document.
func functionFromConfig(body []byte) (lambdarunner.Function, error) {
	var c struct {
		FunctionName  string
		Handler       string
		MemorySize    int
		Architectures []string
		Environment   *struct{ Variables map[string]string }
	}

	if err := json.Unmarshal(body, &c); err != nil {
		return lambdarunner.Function{}, err
	}

	if c.FunctionName == "" {
		return lambdarunner.Function{}, errors.New("no FunctionName in configuration")
	}

	fn := lambdarunner.Function{
		Name:         c.FunctionName,
		Handler:      c.Handler,
		MemoryMB:     c.MemorySize,
		Architecture: "x86_64",
	}

	if len(c.Architectures) > 0 {
		fn.Architecture = c.Architectures[0]
	}

	if c.Environment != nil {
		fn.Environment = c.Environment.Variables
	}

	return fn, nil
}

// patchConfig overlays the runner's state on kumo's FunctionConfiguration
// documents, and points Code.Location at a URL that serves the package.
func (s *Server) patchConfig(body []byte, key string) []byte {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		return body
	}

	switch key {
	case "":
		doc = s.patchOne(doc)
	case "Configuration":
		var c map[string]json.RawMessage
		if json.Unmarshal(doc["Configuration"], &c) == nil {
			c = s.patchOne(c)
			doc["Configuration"], _ = json.Marshal(c)

			var name string
			_ = json.Unmarshal(c["FunctionName"], &name)

			if _, ok := s.opts.Runner.ZipPath(name); ok {
				code := map[string]string{
					"RepositoryType": "S3",
					"Location":       s.opts.Endpoint + "/_localaws/lambda-code/" + url.PathEscape(name),
				}
				doc["Code"], _ = json.Marshal(code)
			}
		}
	case "Functions":
		var list []map[string]json.RawMessage
		if json.Unmarshal(doc["Functions"], &list) == nil {
			for i := range list {
				list[i] = s.patchOne(list[i])
			}

			doc["Functions"], _ = json.Marshal(list)
		}
	}

	out, err := json.Marshal(doc)
	if err != nil {
		return body
	}

	return out
}

func (s *Server) patchOne(c map[string]json.RawMessage) map[string]json.RawMessage {
	var name string
	if json.Unmarshal(c["FunctionName"], &name) != nil {
		return c
	}

	st, ok := s.opts.Runner.Status(name)
	if !ok {
		return c
	}

	set := func(k, v string) {
		if v == "" {
			delete(c, k)

			return
		}

		c[k], _ = json.Marshal(v)
	}

	set("State", st.State)
	set("StateReasonCode", st.StateReasonCode)
	set("StateReason", st.StateReason)
	set("LastUpdateStatus", st.LastUpdateStatus)
	set("LastUpdateStatusReasonCode", st.LastUpdateReasonCode)
	set("LastUpdateStatusReason", st.LastUpdateStatusReason)

	return c
}

// serveCode serves a function's deployment package, the target of the
// Code.Location that GetFunction returns.
func (s *Server) serveCode(w http.ResponseWriter, r *http.Request, name string) {
	name, _ = url.PathUnescape(name)

	p, ok := s.opts.Runner.ZipPath(name)
	if !ok {
		http.NotFound(w, r)

		return
	}

	w.Header().Set("Content-Type", "application/zip")
	http.ServeFile(w, r, p)
}

// getObject reads an S3 object from kumo (CreateFunction's Code.S3Bucket).
func (s *Server) getObject(ctx context.Context, bucket, key string) ([]byte, error) {
	h := http.Header{"Authorization": {s.scopeHeader("s3")}}

	kr, err := s.callKumo(ctx, http.MethodGet, "/"+bucket+"/"+(&url.URL{Path: key}).EscapedPath(), h, nil)
	if err != nil {
		return nil, err
	}

	if kr.status != http.StatusOK {
		//nolint:staticcheck // ST1005: S3's NoSuchKey message, which Lambda quotes to the caller
		return nil, errors.New("The specified key does not exist.")
	}

	return kr.body, nil
}

// serveRuntime proxies the Runtime API and watches it. Each process polls
// under its own prefix (lambdarunner.ProcessPrefix), stripped here, so the
// front door knows which process is up and which invocations each has taken
// and not yet answered: a crash or timeout fails exactly those.
func (s *Server) serveRuntime(w http.ResponseWriter, r *http.Request) {
	procID := ""

	if rest, ok := strings.CutPrefix(r.URL.Path, lambdarunner.ProcessPrefix); ok {
		id, tail, _ := strings.Cut(rest, "/")
		procID = id
		r.URL.Path = "/" + tail
		r.URL.RawPath = ""
	}

	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	// _runtime/{fn}/2018-06-01/runtime/invocation/{next|id}/...
	if len(parts) < 6 || parts[0] != "_runtime" || s.opts.Runner == nil {
		s.proxy.ServeHTTP(w, r)

		return
	}

	fn := parts[1]

	if parts[5] == "next" {
		s.opts.Runner.Attached(procID)

		tw := &takeWatcher{ResponseWriter: w, functionArn: "arn:aws:lambda:" + s.opts.Region + ":000000000000:function:" + fn}
		s.proxy.ServeHTTP(tw, r)

		if id := tw.Header().Get("Lambda-Runtime-Aws-Request-Id"); id != "" && tw.status == http.StatusOK {
			s.trackInvocation(procID, id, true)
			s.watchDeadline(procID, id, tw.Header().Get("Lambda-Runtime-Deadline-Ms"))
		}

		return
	}

	if len(parts) >= 7 && (parts[6] == "response" || parts[6] == "error") {
		s.trackInvocation(procID, parts[5], false)
	}

	s.proxy.ServeHTTP(w, r)
}

// activeDelta counts the synchronous invocations of fn in progress and
// returns the new count.
func (s *Server) activeDelta(fn string, d int) int {
	s.inflightMu.Lock()
	defer s.inflightMu.Unlock()

	s.active[fn] += d
	n := s.active[fn]

	if n <= 0 {
		delete(s.active, fn)
	}

	return n
}

// takeWatcher records the status of a Runtime API "next" answer and gives
// the function its real ARN: kumo names region "local", which a handler
// would see in its context (InvokedFunctionArn).
type takeWatcher struct {
	http.ResponseWriter
	status      int
	functionArn string
}

func (t *takeWatcher) WriteHeader(code int) {
	t.status = code

	if t.Header().Get("Lambda-Runtime-Invoked-Function-Arn") != "" {
		t.Header().Set("Lambda-Runtime-Invoked-Function-Arn", t.functionArn)
	}

	t.ResponseWriter.WriteHeader(code)
}

func (t *takeWatcher) Flush() {
	if f, ok := t.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *Server) trackInvocation(procID, id string, taken bool) {
	s.inflightMu.Lock()
	defer s.inflightMu.Unlock()

	if taken {
		if s.inflight[procID] == nil {
			s.inflight[procID] = make(map[string]struct{})
		}

		s.inflight[procID][id] = struct{}{}

		return
	}

	delete(s.inflight[procID], id)
}

// timeoutGrace lets a response that races the deadline arrive before the
// process is judged hung.
const timeoutGrace = 500 * time.Millisecond

// watchDeadline restarts a process when an invocation it took is still
// unanswered after the function's timeout: kumo has already answered the
// caller with Sandbox.Timedout, and Lambda likewise resets the execution
// environment of a timed-out invocation instead of letting the hung handler
// hold it.
// https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-invoke-with-errors
func (s *Server) watchDeadline(procID, id, deadlineMs string) {
	ms, err := strconv.ParseInt(deadlineMs, 10, 64)
	if err != nil {
		return
	}

	time.AfterFunc(time.Until(time.UnixMilli(ms))+timeoutGrace, func() {
		s.inflightMu.Lock()
		_, hung := s.inflight[procID][id]
		delete(s.inflight[procID], id)
		s.inflightMu.Unlock()

		if hung {
			s.log.Info("function timed out; restarting its process", "process", procID, "request_id", id)
			s.opts.Runner.Kill(procID)
		}
	})
}

// FunctionExited fails the invocations an exited process had taken, with
// the error Lambda reports when a runtime exits mid-invocation, instead of
// leaving the caller to wait for the function's timeout.
func (s *Server) FunctionExited(fn, procID string, exitErr error) {
	s.inflightMu.Lock()
	ids := s.inflight[procID]
	delete(s.inflight, procID)
	s.inflightMu.Unlock()

	for id := range ids {
		payload, _ := json.Marshal(map[string]string{
			"errorType":    "Runtime.ExitError",
			"errorMessage": "RequestId: " + id + " Error: Runtime exited with error: " + exitErr.Error(),
		})

		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := s.callKumo(ctx, http.MethodPost, "/_runtime/"+fn+"/2018-06-01/runtime/invocation/"+id+"/error",
			http.Header{"Content-Type": {"application/json"}}, payload)

		cancel()

		if err != nil {
			s.log.Error("fail invocation of exited function", "function", fn, "request_id", id, "err", err)
		}
	}
}

// writeLambdaError writes an error in Lambda's REST shape.
func writeLambdaError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "Message": message, "message": message})
}
