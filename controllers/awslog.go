package controllers

import "errors"

// awsErrorKeys are the log key-value pairs that identify a failed AWS call:
// its error code and the request ID (and, for S3, the host ID) that AWS
// Support asks for, so a log line can be matched to CloudTrail and to the
// service's own records. They are empty for an error that never reached AWS.
func awsErrorKeys(err error) []any {
	var kv []any
	if code := errorCode(err); code != "" {
		kv = append(kv, "awsErrorCode", code)
	}
	if id := awsRequestID(err); id != "" {
		kv = append(kv, "awsRequestID", id)
	}
	var host interface{ ServiceHostID() string }
	if errors.As(err, &host) && host.ServiceHostID() != "" {
		kv = append(kv, "awsHostID", host.ServiceHostID())
	}
	return kv
}

// awsRequestID is the request ID AWS returned with a failed call, or "".
// Every SDK response error carries it (awshttp.ResponseError, and S3's
// variant that adds the host ID).
func awsRequestID(err error) string {
	var rid interface{ ServiceRequestID() string }
	if errors.As(err, &rid) {
		return rid.ServiceRequestID()
	}
	return ""
}
