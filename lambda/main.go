// Command bootstrap is the ResizeImage Lambda function: it reads an image from
// S3, makes a thumbnail (package resize) and writes it to another bucket.
// See README.md for the event contract and the configuration.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/resize-operator/resize-operator/lambda/resize"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	// Configuration errors stop the function at start-up (the init phase
	// fails and the message shows in the logs and the invoke's error),
	// rather than on every image.
	opts, err := resize.OptionsFromEnv(os.LookupEnv)
	if err != nil {
		failInit(log, "InvalidConfiguration", err)
	}
	client, err := newS3Client(context.Background())
	if err != nil {
		failInit(log, "InvalidAWSConfiguration", err)
	}
	h := &Handler{S3: client, Options: opts, Log: log}
	lambda.Start(func(ctx context.Context, event json.RawMessage) (Response, error) {
		req, err := decodeRequest(event)
		if err != nil {
			return Response{}, lambdaError(err)
		}
		resp, err := h.Handle(ctx, req)
		return resp, lambdaError(err)
	})
}

// newS3Client builds the client from the default configuration chain, which
// also honours AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_S3. With an endpoint
// override it uses path-style addressing: local emulators serve
// http://host:port/bucket/key and have no DNS for bucket.host.
func newS3Client(ctx context.Context) (*s3.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, err
	}
	override := cfg.BaseEndpoint != nil || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if override {
			o.UsePathStyle = true
		}
	}), nil
}

// decodeRequest parses the event itself rather than letting the runtime do
// it, so a malformed event (say "width":"100") is an InvalidRequest naming the
// key like every other bad input, not a bare UnmarshalTypeError.
func decodeRequest(event json.RawMessage) (Request, error) {
	var req Request
	err := json.Unmarshal(event, &req)
	if err == nil {
		return req, nil
	}
	// Recover the key for the message when the rest of the event is wrong.
	var partial struct {
		ImageKey string `json:"image_key"`
	}
	_ = json.Unmarshal(event, &partial)
	return Request{}, &resize.Error{Key: partial.ImageKey, Reason: resize.ReasonInvalidRequest,
		Detail: "event is not a valid request", Err: err}
}

// failInit stops the function during its init phase. The error is logged and
// also posted to the Runtime API's init/error endpoint, so the caller of the
// invoke sees the message and its type, not only a bare "Runtime.ExitError".
func failInit(log *slog.Logger, errType string, err error) {
	log.Error("cannot start", "error_type", errType, "error", err.Error())
	if api := os.Getenv("AWS_LAMBDA_RUNTIME_API"); api != "" {
		body, _ := json.Marshal(messages.InvokeResponse_Error{Type: errType, Message: err.Error()})
		req, rerr := http.NewRequest(http.MethodPost, "http://"+api+"/2018-06-01/runtime/init/error", bytes.NewReader(body))
		if rerr == nil {
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Lambda-Runtime-Function-Error-Type", errType)
			if resp, derr := (&http.Client{Timeout: 2 * time.Second}).Do(req); derr == nil {
				_ = resp.Body.Close() // best effort: the process exits next
			}
		}
	}
	os.Exit(1)
}

// lambdaError reports a *resize.Error with its reason as the errorType, so a
// Step Functions Retry or Catch can match "StorageError" or "TooManyPixels"
// instead of the Go type name every error would otherwise share.
func lambdaError(err error) error {
	if err == nil {
		return nil
	}
	var re *resize.Error
	if errors.As(err, &re) {
		return messages.InvokeResponse_Error{Type: string(re.Reason), Message: err.Error()}
	}
	return messages.InvokeResponse_Error{Type: "ResizeError", Message: fmt.Sprint(err)}
}
