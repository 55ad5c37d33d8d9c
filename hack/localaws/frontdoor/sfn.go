package frontdoor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// serveSFN handles Step Functions (AWS JSON 1.0): the operations kumo lacks,
// definition validation kumo skips, and everything else proxied under a read
// lock so UpdateStateMachine's replacement is never observed half done.
func (s *Server) serveSFN(w http.ResponseWriter, r *http.Request) {
	action := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AWSStepFunctions.")

	switch action {
	case "UpdateStateMachine":
		s.sfnUpdate(w, r)

		return
	case "StartSyncExecution":
		s.sfnStartSync(w, r)

		return
	}

	s.sfnMu.RLock()
	defer s.sfnMu.RUnlock()

	switch action {
	case "CreateStateMachine":
		s.sfnCreate(w, r)
	case "DescribeStateMachine":
		s.sfnDescribe(w, r)
	case "DeleteStateMachine":
		s.sfnDelete(w, r)
	default:
		s.proxy.ServeHTTP(w, r)
	}
}

// callSFN calls a kumo Step Functions action with a JSON request.
func (s *Server) callSFN(ctx context.Context, action string, in any) (*kumoResponse, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}

	h := http.Header{
		"Content-Type":  {"application/x-amz-json-1.0"},
		"X-Amz-Target":  {"AWSStepFunctions." + action},
		"Authorization": {s.scopeHeader("states")},
	}

	return s.callKumo(ctx, http.MethodPost, "/", h, body)
}

// validateDefinition returns an InvalidDefinition message when kumo's own
// validator finds an ERROR in the definition, "" when it is valid.
func (s *Server) validateDefinition(ctx context.Context, definition, smType string) (string, error) {
	kr, err := s.callSFN(ctx, "ValidateStateMachineDefinition", map[string]string{"definition": definition, "type": smType})
	if err != nil {
		return "", err
	}

	var out struct {
		Result      string `json:"result"`
		Diagnostics []struct {
			Severity, Code, Message, Location string
		} `json:"diagnostics"`
	}

	if kr.status != http.StatusOK || json.Unmarshal(kr.body, &out) != nil || out.Result != "FAIL" {
		return "", nil
	}

	msgs := make([]string, 0, len(out.Diagnostics))

	for _, d := range out.Diagnostics {
		if d.Severity != "ERROR" {
			continue
		}

		m := d.Code + ": " + d.Message
		if d.Location != "" {
			m += " at " + d.Location
		}

		msgs = append(msgs, m)
	}

	if len(msgs) == 0 {
		return "", nil
	}

	// AWS's wording for CreateStateMachine/UpdateStateMachine.
	return "Invalid State Machine Definition: '" + strings.Join(msgs, ", ") + "'", nil
}

// sfnCreate validates the definition before kumo stores it: AWS refuses an
// invalid definition with InvalidDefinition, kumo accepts it.
func (s *Server) sfnCreate(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "ValidationException", err.Error())

		return
	}

	var req struct {
		Definition string `json:"definition"`
		Type       string `json:"type"`
	}

	if err := json.Unmarshal(body, &req); err != nil {
		writeJSONError(w, http.StatusBadRequest, "SerializationException", "Invalid request body: "+err.Error())

		return
	}

	msg, err := s.validateDefinition(r.Context(), req.Definition, req.Type)
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, "InternalFailure", err.Error())

		return
	}

	if msg != "" {
		writeJSONError(w, http.StatusBadRequest, "InvalidDefinition", msg)

		return
	}

	kr, err := s.forward(r, body)
	if err != nil {
		writeJSONError(w, http.StatusBadGateway, "InternalFailure", err.Error())

		return
	}

	if kr.status/100 == 4 && bytes.Contains(kr.body, []byte("StateMachineAlreadyExists")) {
		if out, ok := s.sameMachine(r.Context(), body); ok {
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			_, _ = w.Write(out)

			return
		}
	}

	kr.write(w, kr.body)
}

// sameMachine implements CreateStateMachine's idempotency, which kumo lacks:
// creating a machine that exists with the same name, definition, type,
// logging and tracing answers with the existing one instead of
// StateMachineAlreadyExists, so a create retried after a lost answer
// succeeds.
// https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html
func (s *Server) sameMachine(ctx context.Context, body []byte) ([]byte, bool) {
	var req struct {
		Name                 string          `json:"name"`
		Definition           string          `json:"definition"`
		Type                 string          `json:"type"`
		LoggingConfiguration json.RawMessage `json:"loggingConfiguration"`
		TracingConfiguration json.RawMessage `json:"tracingConfiguration"`
	}

	if json.Unmarshal(body, &req) != nil {
		return nil, false
	}

	// The ARN kumo gives a machine of this name (see CreateStateMachine).
	arn := "arn:aws:states:" + s.opts.Region + ":000000000000:stateMachine:" + req.Name

	kr, err := s.callSFN(ctx, "DescribeStateMachine", map[string]string{"stateMachineArn": arn})
	if err != nil || kr.status != http.StatusOK {
		return nil, false
	}

	var cur describedMachine
	if json.Unmarshal(kr.body, &cur) != nil {
		return nil, false
	}

	typ := req.Type
	if typ == "" {
		typ = "STANDARD"
	}

	if cur.Name != req.Name || cur.Definition != req.Definition || cur.Type != typ ||
		!sameJSON(cur.LoggingConfiguration, req.LoggingConfiguration) || !sameJSON(cur.TracingConfiguration, req.TracingConfiguration) {
		return nil, false
	}

	created := cur.CreationDate

	s.updatedMu.Lock()
	if ov, ok := s.updated[arn]; ok {
		created = ov.creationDate
	}
	s.updatedMu.Unlock()

	out, err := json.Marshal(map[string]json.RawMessage{
		"stateMachineArn": json.RawMessage(strconv.Quote(arn)),
		"creationDate":    created,
	})

	return out, err == nil
}

// sameJSON compares two optional JSON documents; absent and null are equal
// to each other and to an empty object, as the services default them.
func sameJSON(a, b json.RawMessage) bool {
	norm := func(v json.RawMessage) string {
		var x any
		if len(v) == 0 || json.Unmarshal(v, &x) != nil || x == nil {
			return "{}"
		}

		out, _ := json.Marshal(x)

		return string(out)
	}

	return norm(a) == norm(b)
}

// sfnDescribe keeps the original creation date of a state machine that
// UpdateStateMachine replaced inside kumo, and reports the logging and
// tracing defaults Step Functions shows.
// https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeStateMachine.html
func (s *Server) sfnDescribe(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "ValidationException", err.Error())

		return
	}

	kr, err := s.forward(r, body)
	if err != nil {
		writeJSONError(w, http.StatusBadGateway, "InternalFailure", err.Error())

		return
	}

	var doc map[string]json.RawMessage
	if kr.status != http.StatusOK || json.Unmarshal(kr.body, &doc) != nil {
		kr.write(w, kr.body)

		return
	}

	var arn string
	_ = json.Unmarshal(doc["stateMachineArn"], &arn)

	s.updatedMu.Lock()
	ov, ok := s.updated[arn]
	s.updatedMu.Unlock()

	if ok {
		doc["creationDate"] = ov.creationDate
		doc["revisionId"], _ = json.Marshal(ov.revisionID)
	}

	// Step Functions reports logging and tracing as configured off when a
	// machine was created without them; kumo leaves them out.
	if len(doc["loggingConfiguration"]) == 0 {
		doc["loggingConfiguration"] = json.RawMessage(`{"level":"OFF","includeExecutionData":false}`)
	}

	if len(doc["tracingConfiguration"]) == 0 {
		doc["tracingConfiguration"] = json.RawMessage(`{"enabled":false}`)
	}

	out, _ := json.Marshal(doc)
	kr.write(w, out)
}

// machineOverlay is what the front door reports for a state machine in
// place of kumo's values.
type machineOverlay struct {
	creationDate json.RawMessage
	revisionID   string
}

// sfnDelete forgets the overlay of a deleted state machine, so one created
// later under the same name (and so the same ARN) starts fresh.
func (s *Server) sfnDelete(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "ValidationException", err.Error())

		return
	}

	var req struct {
		StateMachineArn string `json:"stateMachineArn"`
	}

	_ = json.Unmarshal(body, &req)

	kr, err := s.forward(r, body)
	if err != nil {
		writeJSONError(w, http.StatusBadGateway, "InternalFailure", err.Error())

		return
	}

	if kr.status == http.StatusOK {
		s.updatedMu.Lock()
		delete(s.updated, req.StateMachineArn)
		s.updatedMu.Unlock()
	}

	kr.write(w, kr.body)
}

// describedMachine is what DescribeStateMachine returns that an update keeps.
type describedMachine struct {
	StateMachineArn      string          `json:"stateMachineArn"`
	Name                 string          `json:"name"`
	Definition           string          `json:"definition"`
	RoleArn              string          `json:"roleArn"`
	Type                 string          `json:"type"`
	CreationDate         json.RawMessage `json:"creationDate"`
	LoggingConfiguration json.RawMessage `json:"loggingConfiguration,omitempty"`
	TracingConfiguration json.RawMessage `json:"tracingConfiguration,omitempty"`
	RevisionID           string          `json:"revisionId"`
}

// sfnUpdate implements UpdateStateMachine, which kumo lacks. kumo derives a
// state machine's ARN from its name, so deleting it and creating it again
// with the new definition and role keeps the ARN; tags, type, logging and
// tracing are carried over and the first creation date is remembered.
// Executions already running keep the definition they started with, as on
// AWS.
// https://docs.aws.amazon.com/step-functions/latest/apireference/API_UpdateStateMachine.html
func (s *Server) sfnUpdate(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "ValidationException", err.Error())

		return
	}

	var req struct {
		StateMachineArn      string          `json:"stateMachineArn"`
		Definition           *string         `json:"definition"`
		RoleArn              *string         `json:"roleArn"`
		LoggingConfiguration json.RawMessage `json:"loggingConfiguration"`
		TracingConfiguration json.RawMessage `json:"tracingConfiguration"`
		Publish              bool            `json:"publish"`
	}

	if err := json.Unmarshal(body, &req); err != nil {
		writeJSONError(w, http.StatusBadRequest, "SerializationException", "Invalid request body: "+err.Error())

		return
	}

	if req.StateMachineArn == "" {
		writeJSONError(w, http.StatusBadRequest, "ValidationException", "1 validation error detected: Value null at 'stateMachineArn' failed to satisfy constraint: Member must not be null")

		return
	}

	if req.Definition == nil && req.RoleArn == nil && req.LoggingConfiguration == nil && req.TracingConfiguration == nil {
		writeJSONError(w, http.StatusBadRequest, "MissingRequiredParameter", "Either the definition, the roleArn, the LoggingConfiguration, or the TracingConfiguration must be specified")

		return
	}

	if req.Publish {
		writeJSONError(w, http.StatusBadRequest, "ValidationException", "Publishing state machine versions is not supported by the local stack")

		return
	}

	ctx := r.Context()

	s.sfnMu.Lock()
	defer s.sfnMu.Unlock()

	kr, err := s.callSFN(ctx, "DescribeStateMachine", map[string]string{"stateMachineArn": req.StateMachineArn})
	if err != nil {
		writeJSONError(w, http.StatusBadGateway, "InternalFailure", err.Error())

		return
	}

	if kr.status != http.StatusOK {
		kr.write(w, kr.body)

		return
	}

	var cur describedMachine
	if err := json.Unmarshal(kr.body, &cur); err != nil {
		writeJSONError(w, http.StatusInternalServerError, "InternalFailure", err.Error())

		return
	}

	next := cur
	if req.Definition != nil {
		next.Definition = *req.Definition
	}

	if req.RoleArn != nil {
		next.RoleArn = *req.RoleArn
	}

	if req.LoggingConfiguration != nil {
		next.LoggingConfiguration = req.LoggingConfiguration
	}

	if req.TracingConfiguration != nil {
		next.TracingConfiguration = req.TracingConfiguration
	}

	if req.Definition != nil {
		msg, err := s.validateDefinition(ctx, next.Definition, next.Type)
		if err != nil {
			writeJSONError(w, http.StatusBadGateway, "InternalFailure", err.Error())

			return
		}

		if msg != "" {
			writeJSONError(w, http.StatusBadRequest, "InvalidDefinition", msg)

			return
		}
	}

	tkr, err := s.callSFN(ctx, "ListTagsForResource", map[string]string{"resourceArn": cur.StateMachineArn})
	if err != nil || tkr.status != http.StatusOK {
		writeJSONError(w, http.StatusBadGateway, "InternalFailure", fmt.Sprintf("read tags: %v", err))

		return
	}

	var tags struct {
		Tags json.RawMessage `json:"tags"`
	}

	_ = json.Unmarshal(tkr.body, &tags)

	if err := s.replaceMachine(ctx, cur, next, tags.Tags); err != nil {
		writeJSONError(w, http.StatusInternalServerError, "InternalFailure", err.Error())

		return
	}

	revision := uuid.NewString()

	s.updatedMu.Lock()
	ov, ok := s.updated[cur.StateMachineArn]
	if !ok {
		ov.creationDate = cur.CreationDate
	}
	ov.revisionID = revision
	s.updated[cur.StateMachineArn] = ov
	s.updatedMu.Unlock()

	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"updateDate": float64(time.Now().UnixMilli()) / 1000,
		"revisionId": revision,
	})
}

// replaceMachine deletes cur in kumo and creates next under the same name;
// if the creation fails, cur is restored.
func (s *Server) replaceMachine(ctx context.Context, cur, next describedMachine, tags json.RawMessage) error {
	create := func(m describedMachine) (*kumoResponse, error) {
		in := map[string]any{
			"name":       m.Name,
			"definition": m.Definition,
			"roleArn":    m.RoleArn,
			"type":       m.Type,
		}
		if len(m.LoggingConfiguration) > 0 {
			in["loggingConfiguration"] = m.LoggingConfiguration
		}

		if len(m.TracingConfiguration) > 0 {
			in["tracingConfiguration"] = m.TracingConfiguration
		}

		if len(tags) > 0 && string(tags) != "null" && string(tags) != "[]" {
			in["tags"] = tags
		}

		return s.callSFN(ctx, "CreateStateMachine", in)
	}

	dkr, err := s.callSFN(ctx, "DeleteStateMachine", map[string]string{"stateMachineArn": cur.StateMachineArn})
	if err != nil {
		return err
	}

	if dkr.status != http.StatusOK {
		return fmt.Errorf("delete for update: %s", dkr.body)
	}

	ckr, err := create(next)
	if err == nil && ckr.status == http.StatusOK {
		return nil
	}

	if _, rerr := create(cur); rerr != nil {
		s.log.Error("restore state machine after failed update", "arn", cur.StateMachineArn, "err", rerr)
	}

	if err != nil {
		return err
	}

	return fmt.Errorf("create for update: %s", ckr.body)
}

// sfnStartSync implements StartSyncExecution for EXPRESS state machines, which
// kumo lacks: start the execution and wait for it to finish. As on AWS the
// answer is 200 whatever the execution's outcome, and STANDARD machines are
// refused. The SDK sends this call to host "sync-<endpoint host>"; the front
// door ignores Host, so any name that reaches it works.
// https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartSyncExecution.html
func (s *Server) sfnStartSync(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "ValidationException", err.Error())

		return
	}

	var req struct {
		StateMachineArn string `json:"stateMachineArn"`
		Name            string `json:"name,omitempty"`
		Input           string `json:"input,omitempty"`
		TraceHeader     string `json:"traceHeader,omitempty"`
	}

	if err := json.Unmarshal(body, &req); err != nil {
		writeJSONError(w, http.StatusBadRequest, "SerializationException", "Invalid request body: "+err.Error())

		return
	}

	ctx := r.Context()

	s.sfnMu.RLock()
	kr, err := s.callSFN(ctx, "DescribeStateMachine", map[string]string{"stateMachineArn": req.StateMachineArn})

	if err == nil && kr.status == http.StatusOK {
		var m describedMachine
		_ = json.Unmarshal(kr.body, &m)

		if m.Type != "EXPRESS" {
			s.sfnMu.RUnlock()
			writeJSONError(w, http.StatusBadRequest, "StateMachineTypeNotSupported",
				"This operation is not supported by this type of state machine")

			return
		}

		start := map[string]string{"stateMachineArn": req.StateMachineArn}
		if req.Name != "" {
			start["name"] = req.Name
		}

		if req.Input != "" {
			start["input"] = req.Input
		}

		if req.TraceHeader != "" {
			start["traceHeader"] = req.TraceHeader
		}

		kr, err = s.callSFN(ctx, "StartExecution", start)
	}
	s.sfnMu.RUnlock()

	if err != nil {
		writeJSONError(w, http.StatusBadGateway, "InternalFailure", err.Error())

		return
	}

	if kr.status != http.StatusOK {
		kr.write(w, kr.body)

		return
	}

	var started struct {
		ExecutionArn string `json:"executionArn"`
	}

	_ = json.Unmarshal(kr.body, &started)

	began := time.Now()

	desc, err := s.waitExecution(ctx, started.ExecutionArn)
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, "InternalFailure", err.Error())

		return
	}

	// StartSyncExecution's answer is DescribeExecution's fields plus billing.
	delete(desc, "redriveCount")
	delete(desc, "redriveStatus")
	delete(desc, "redriveStatusReason")

	billed := time.Since(began).Milliseconds()
	// Express workflows are billed in 100 ms steps, at least 100 ms.
	billed = max(100, (billed+99)/100*100)
	desc["billingDetails"], _ = json.Marshal(map[string]int64{
		"billedDurationInMilliseconds": billed,
		"billedMemoryUsedInMB":         64,
	})

	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(desc)
}

// waitExecution polls kumo until the execution leaves RUNNING. Express
// executions last at most five minutes, which bounds the wait.
func (s *Server) waitExecution(ctx context.Context, arn string) (map[string]json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()

	delay := time.Millisecond

	for {
		kr, err := s.callSFN(ctx, "DescribeExecution", map[string]string{"executionArn": arn})
		if err != nil {
			return nil, err
		}

		var desc map[string]json.RawMessage
		if kr.status != http.StatusOK || json.Unmarshal(kr.body, &desc) != nil {
			return nil, fmt.Errorf("describe execution: %s", kr.body)
		}

		if string(desc["status"]) != `"RUNNING"` {
			return desc, nil
		}

		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}

		delay = min(delay*2, 50*time.Millisecond)
	}
}
