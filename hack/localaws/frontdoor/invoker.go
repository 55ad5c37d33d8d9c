package frontdoor

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
)

// jsonTargets names the X-Amz-Target prefix and JSON protocol version of the
// services an API Gateway AWS integration can call through the stack.
var jsonTargets = map[string]struct{ prefix, contentType string }{
	"states": {"AWSStepFunctions", "application/x-amz-json-1.0"},
}

// Invoker calls AWS service actions through the front door itself, so an API
// Gateway integration sees exactly what an SDK client would, gaps filled
// (StartSyncExecution, for one).
type Invoker struct{ s *Server }

// Invoker returns the front door's service invoker.
func (s *Server) Invoker() *Invoker { return &Invoker{s: s} }

// Invoke calls action of service with a JSON body and returns the service's
// answer as it would reach a client.
func (inv *Invoker) Invoke(ctx context.Context, service, action string, body []byte) (int, http.Header, []byte, error) {
	t, ok := jsonTargets[service]
	if !ok {
		return 0, nil, nil, fmt.Errorf("local stack: AWS integrations to service %q are not supported (only %v)", service, supportedServices())
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, inv.s.opts.Endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}

	req.Header.Set("Content-Type", t.contentType)
	req.Header.Set("X-Amz-Target", t.prefix+"."+action)
	req.Header.Set("Authorization", inv.s.scopeHeader(service))

	rec := httptest.NewRecorder()
	inv.s.ServeHTTP(rec, req)

	res := rec.Result()
	defer func() { _ = res.Body.Close() }() // a recorder's in-memory body

	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, nil, nil, err
	}

	return res.StatusCode, res.Header, b, nil
}

func supportedServices() []string {
	out := make([]string, 0, len(jsonTargets))
	for k := range jsonTargets {
		out = append(out, k)
	}

	return out
}
