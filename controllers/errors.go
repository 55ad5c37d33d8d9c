package controllers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

var errorAs = errors.As

// ErrorClass says what a reconcile should do about an error.
type ErrorClass int

const (
	// Retryable errors go away by themselves (throttling, 5xx, IAM
	// propagation, a resource busy updating): requeue with backoff.
	Retryable ErrorClass = iota
	// Terminal errors need a person to change the spec or the AWS account:
	// report them in a condition and wait for the next resync or spec change,
	// without hot-looping.
	Terminal
)

func (c ErrorClass) String() string {
	if c == Terminal {
		return "Terminal"
	}
	return "Retryable"
}

// throttlingCodes are the error codes with which AWS services say "slow down".
var throttlingCodes = map[string]bool{
	"Throttling":                             true,
	"ThrottlingException":                    true,
	"ThrottledException":                     true,
	"RequestThrottledException":              true,
	"TooManyRequestsException":               true,
	"ProvisionedThroughputExceededException": true,
	"TransactionInProgressException":         true,
	"RequestLimitExceeded":                   true,
	"BandwidthLimitExceeded":                 true,
	"RequestThrottled":                       true,
	"SlowDown":                               true,
	"PriorRequestNotComplete":                true,
	"EC2ThrottledException":                  true,
}

// transientCodes are conflicts that resolve once a concurrent change settles.
var transientCodes = map[string]bool{
	// Lambda: an update is still in progress.
	"ResourceConflictException": true,
	// S3: a conflicting operation on the bucket is in progress.
	"OperationAborted": true,
	// IAM.
	"ConcurrentModification": true,
	// Another reconcile (or a crash) created the resource between our read
	// and our create: the next read finds it.
	"EntityAlreadyExists":       true,
	"StateMachineAlreadyExists": true,
	"ResourceInUseException":    true,
	// A resource the phase has just seen or created is not found: IAM's
	// eventual consistency right after CreateRole, or a concurrent delete.
	// The next pass observes again and creates it if it is really gone.
	"NoSuchEntity":              true,
	"NotFoundException":         true,
	"ResourceNotFoundException": true,
	"StateMachineDoesNotExist":  true,
	"NoSuchBucket":              true,
	// API Gateway: e.g. a deployment racing a change.
	"ConflictException":  true,
	"ServiceUnavailable": true,
	"InternalError":      true,
	"InternalFailure":    true,
	"ServiceException":   true,
}

// IsIAMPropagation reports the error Lambda returns while a freshly created
// role is not yet visible to it. It is the most common retryable error of a
// first reconcile; AWS documents it as eventual consistency.
func IsIAMPropagation(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	msg := ae.ErrorMessage()
	// Step Functions says the same when a new role is not yet assumable.
	if ae.ErrorCode() == "AccessDeniedException" && strings.Contains(msg, "authorized to assume the provided role") {
		return true
	}
	if ae.ErrorCode() != "InvalidParameterValueException" {
		return false
	}
	return strings.Contains(msg, "cannot be assumed by Lambda") ||
		strings.Contains(msg, "role defined for the function cannot be assumed") ||
		strings.Contains(msg, "does not have permissions to call")
}

// Classify tells retryable errors from terminal ones.
func Classify(err error) ErrorClass {
	if err == nil {
		return Retryable
	}
	var te *terminalError
	if errors.As(err, &te) {
		return Terminal
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return Retryable
	}
	if IsIAMPropagation(err) {
		return Retryable
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() >= 500 {
		return Retryable
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code := ae.ErrorCode()
		if throttlingCodes[code] || transientCodes[code] {
			return Retryable
		}
		if ae.ErrorFault() == smithy.FaultServer {
			return Retryable
		}
		return Terminal
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return Retryable
	}
	// An error the SDK could not even classify (a connection reset, a broken
	// response) is worth another try.
	return Retryable
}

// terminalError is an error that retrying cannot fix, with the condition
// reason it is reported under.
type terminalError struct {
	reason string
	msg    string
}

func (e *terminalError) Error() string { return e.msg }

// terminalf builds a terminal error whose message tells the user what to do.
func terminalf(reason, format string, args ...any) error {
	return &terminalError{reason: reason, msg: fmt.Sprintf(format, args...)}
}

// reasonFor is the CamelCase condition reason for a failed phase.
func reasonFor(err error) string {
	var te *terminalError
	if errors.As(err, &te) {
		return te.reason
	}
	// A retryable error that knows what it waits for (e.g. another
	// controller) names its own reason.
	var re interface{ ConditionReason() string }
	if errors.As(err, &re) {
		return re.ConditionReason()
	}
	if IsIAMPropagation(err) {
		return ReasonWaitingForIAM
	}
	if Classify(err) == Retryable {
		if code := errorCode(err); throttlingCodes[code] {
			return ReasonThrottled
		}
		return ReasonRetrying
	}
	return ReasonAWSError
}

// isCode reports whether err is an AWS API error with one of the codes.
func isCode(err error, codes ...string) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	for _, c := range codes {
		if ae.ErrorCode() == c {
			return true
		}
	}
	return false
}

// httpStatus is the HTTP status of a failed call, or 0.
func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}
