// Command echofn is a test Lambda for the local stack: it answers according
// to the event's "action", so tests can drive success, function errors,
// crashes and S3 writes through one bootstrap.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Event is what tests send.
type Event struct {
	Action string `json:"action"`
	Bucket string `json:"bucket,omitempty"`
	Key    string `json:"key,omitempty"`
	Body   string `json:"body,omitempty"`
}

// Result echoes what the function saw.
type Result struct {
	Action   string `json:"action"`
	Function string `json:"function"`
	Greeting string `json:"greeting"`
	Region   string `json:"region"`
	PID      int    `json:"pid"`
	Key      string `json:"key,omitempty"`
	ARN      string `json:"arn"`
}

// calls counts this process's invocations, for "flaky".
var calls int

func handle(ctx context.Context, ev Event) (Result, error) {
	calls++

	res := Result{
		Action:   ev.Action,
		Function: os.Getenv("AWS_LAMBDA_FUNCTION_NAME"),
		Greeting: os.Getenv("GREETING"),
		Region:   os.Getenv("AWS_REGION"),
		PID:      os.Getpid(),
	}

	if lc, ok := lambdacontext.FromContext(ctx); ok {
		res.ARN = lc.InvokedFunctionArn
	}

	switch ev.Action {
	case "fail":
		return res, errors.New("asked to fail")
	case "flaky":
		// Fails every other call, starting with the first: a retried Task
		// succeeds on its second attempt.
		if calls%2 == 1 {
			return res, errors.New("flaky failure")
		}
	case "sleep":
		time.Sleep(time.Second)
	case "hang":
		// Outlives any timeout the tests give the function.
		time.Sleep(time.Hour)
	case "crash":
		os.Exit(3)
	case "put":
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return res, err
		}

		client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
		key := "out/" + ev.Key
		_, err = client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(ev.Bucket),
			Key:    aws.String(key),
			Body:   strings.NewReader(ev.Body),
		})
		if err != nil {
			return res, fmt.Errorf("put object: %w", err)
		}

		res.Key = key
	}

	return res, nil
}

func main() {
	if msg := os.Getenv("FAIL_INIT"); msg != "" {
		// A configuration error found before the handler starts.
		fmt.Fprintln(os.Stderr, msg)
		os.Exit(2)
	}

	lambda.Start(handle)
}
