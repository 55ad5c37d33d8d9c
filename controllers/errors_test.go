package controllers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func apiErr(code, msg string) error {
	return &smithy.GenericAPIError{Code: code, Message: msg, Fault: smithy.FaultClient}
}

// responseErr wraps err as the SDK does for an HTTP response with status.
func responseErr(status int, err error) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      err,
	}}
}

func TestClassify(t *testing.T) {
	cases := map[string]struct {
		err        error
		wantClass  ErrorClass
		wantReason string
	}{
		"IAM propagation on CreateFunction": {
			apiErr("InvalidParameterValueException", "The role defined for the function cannot be assumed by Lambda."),
			Retryable, ReasonWaitingForIAM},
		"IAM propagation on CreateStateMachine": {
			apiErr("AccessDeniedException", "Neither the global service principal states.amazonaws.com, nor the regional one is authorized to assume the provided role."),
			Retryable, ReasonWaitingForIAM},
		"other invalid parameter": {
			apiErr("InvalidParameterValueException", "Unzipped size must be smaller than 262144000 bytes"),
			Terminal, ReasonAWSError},
		"throttling":                            {apiErr("ThrottlingException", "Rate exceeded"), Retryable, ReasonThrottled},
		"S3 slow down":                          {apiErr("SlowDown", "Please reduce your request rate."), Retryable, ReasonThrottled},
		"API Gateway too many":                  {apiErr("TooManyRequestsException", "Too Many Requests"), Retryable, ReasonThrottled},
		"Lambda update running":                 {apiErr("ResourceConflictException", "The operation cannot be performed at this time."), Retryable, ReasonRetrying},
		"5xx":                                   {responseErr(503, apiErr("ServiceUnavailable", "")), Retryable, ReasonRetrying},
		"500 with unknown code":                 {responseErr(500, apiErr("Weird", "")), Retryable, ReasonRetrying},
		"server fault":                          {&smithy.GenericAPIError{Code: "X", Fault: smithy.FaultServer}, Retryable, ReasonRetrying},
		"role not yet visible after CreateRole": {apiErr("NoSuchEntity", "The role with name x cannot be found."), Retryable, ReasonRetrying},
		"access denied":                         {responseErr(403, apiErr("AccessDenied", "not allowed")), Terminal, ReasonAWSError},
		"validation":                            {apiErr("ValidationError", "bad"), Terminal, ReasonAWSError},
		"ownership conflict": {
			terminalf(ReasonOwnedByAnotherPipeline, "Lambda function ResizeImage belongs to ResizePipeline a/b"),
			Terminal, ReasonOwnedByAnotherPipeline},
		"wrapped terminal": {
			fmt.Errorf("phase: %w", terminalf(ReasonBucketNameTaken, "taken")), Terminal, ReasonBucketNameTaken},
		"deadline":          {context.DeadlineExceeded, Retryable, ReasonRetrying},
		"connection failed": {errors.New("dial tcp 127.0.0.1:4566: connection refused"), Retryable, ReasonRetrying},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := Classify(tc.err); got != tc.wantClass {
				t.Errorf("Classify = %v, want %v", got, tc.wantClass)
			}
			if got := reasonFor(tc.err); got != tc.wantReason {
				t.Errorf("reasonFor = %q, want %q", got, tc.wantReason)
			}
		})
	}
}
