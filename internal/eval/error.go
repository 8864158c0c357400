package eval

import (
	"errors"
	"fmt"
)

// The closed set of error kinds. Adapters translate their own failures into
// one of these (with errors.As on the SDK's types) and wrap it with the
// operation and the id; the HTTP layer maps each kind to one status.
var (
	// ErrUnauthorized: the API key is missing, unknown or revoked.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrNotFound: the thing does not exist in the caller's organization.
	ErrNotFound = errors.New("not found")
	// ErrInProgress: a run of the conversation is pending or running.
	ErrInProgress = errors.New("evaluation in progress")
	// ErrNotRetryable: the run is not failed or errored.
	ErrNotRetryable = errors.New("run not retryable")
	// ErrDuplicate: the evaluator is already bound to that target.
	ErrDuplicate = errors.New("duplicate binding")
	// ErrInvalid: a well-formed request that cannot be accepted.
	ErrInvalid = errors.New("invalid")
	// ErrTooLarge: the request is over a documented size limit.
	ErrTooLarge = errors.New("too large")
	// ErrStale: the task no longer holds the conversation's guard (its lease
	// was taken over); its writes are refused.
	ErrStale = errors.New("stale task")
	// ErrUnavailable: a dependency failed after retries; the caller may retry.
	ErrUnavailable = errors.New("unavailable")
)

// Error is an error of a known kind with a message that is safe to show to
// the client. The message never carries internal detail.
type Error struct {
	Kind    error
	Message string
}

func (e *Error) Error() string { return e.Kind.Error() + ": " + e.Message }

// Unwrap returns the kind, so errors.Is(err, ErrNotFound) holds.
func (e *Error) Unwrap() error { return e.Kind }

// Errorf returns an *Error of the given kind with a formatted client-safe
// message.
func Errorf(kind error, format string, a ...any) error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, a...)}
}

// Message returns the client-safe message of err, or "" when err carries
// none.
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return ""
}
