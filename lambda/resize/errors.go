package resize

import (
	"errors"
	"fmt"
)

// Reason classifies a failure. Its value is also the Lambda errorType the
// function reports, so a workflow can catch one reason (for example retry
// StorageError but not CorruptImage).
type Reason string

// The reasons a thumbnail cannot be made.
const (
	// ReasonInvalidRequest: a field of the event is missing, empty or out of bounds.
	ReasonInvalidRequest Reason = "InvalidRequest"
	// ReasonNotFound: the source bucket or object does not exist.
	ReasonNotFound Reason = "SourceNotFound"
	// ReasonTooLarge: the object is larger than MaxSourceBytes.
	ReasonTooLarge Reason = "SourceTooLarge"
	// ReasonTooManyPixels: the image header claims more than MaxSourcePixels.
	ReasonTooManyPixels Reason = "TooManyPixels"
	// ReasonNotImage: the object is not a JPEG, PNG or GIF.
	ReasonNotImage Reason = "NotAnImage"
	// ReasonCorrupt: the object starts like an image but cannot be decoded
	// (truncated, corrupt or using an unsupported variant).
	ReasonCorrupt Reason = "CorruptImage"
	// ReasonKeyCollision: the thumbnail would overwrite the source object.
	ReasonKeyCollision Reason = "ThumbKeyCollision"
	// ReasonStorage: reading or writing S3 failed for another reason
	// (permissions, throttling, network); often worth a retry.
	ReasonStorage Reason = "StorageError"
)

// Error is every error the resize path returns: it names the object key and
// the reason, and wraps the underlying cause when there is one.
type Error struct {
	Key    string
	Reason Reason
	// Detail says what was wrong in words a user can act on.
	Detail string
	Err    error
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s: image %q: %s", e.Reason, e.Key, e.Detail)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// ReasonOf returns the reason of the first *Error in err's chain, or "" when
// there is none.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

func newError(key string, reason Reason, err error, format string, args ...any) *Error {
	return &Error{Key: key, Reason: reason, Detail: fmt.Sprintf(format, args...), Err: err}
}
