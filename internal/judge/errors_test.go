package judge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestKind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind      Kind
		name      string
		retryable bool
	}{
		{0, "unknown", false},
		{Throttled, "throttled", true},
		{Unavailable, "unavailable", true},
		{Timeout, "timeout", true},
		{Unauthorized, "unauthorized", false},
		{NotFound, "not_found", false},
		{BadRequest, "bad_request", false},
		{Malformed, "malformed", true},
		{Misconfigured, "misconfigured", false},
		{Kind(42), "Kind(42)", false},
	}
	for _, tt := range tests {
		if got := tt.kind.String(); got != tt.name {
			t.Errorf("Kind(%d).String() = %q, want %q", int(tt.kind), got, tt.name)
		}
		if got := tt.kind.Retryable(); got != tt.retryable {
			t.Errorf("%v.Retryable() = %v, want %v", tt.kind, got, tt.retryable)
		}
	}
}

func TestKindForStatus(t *testing.T) {
	t.Parallel()
	tests := map[int]Kind{
		400: BadRequest, 401: Unauthorized, 402: Unauthorized, 403: Unauthorized, 404: NotFound,
		408: Timeout, 409: BadRequest, 413: BadRequest, 422: BadRequest, 429: Throttled,
		500: Unavailable, 502: Unavailable, 503: Unavailable, 504: Unavailable, 529: Unavailable,
	}
	for status, want := range tests {
		if got := kindForStatus(status); got != want {
			t.Errorf("kindForStatus(%d) = %v, want %v", status, got, want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"none", http.Header{}, 0},
		{"nil", nil, 0},
		{"seconds", http.Header{"Retry-After": {"7"}}, 7 * time.Second},
		{"fractional seconds", http.Header{"Retry-After": {"1.5"}}, 1500 * time.Millisecond},
		{"http date", http.Header{"Retry-After": {"Fri, 04 Dec 2026 15:00:30 GMT"}}, 30 * time.Second},
		{"http date in the past", http.Header{"Retry-After": {"Fri, 04 Dec 2026 14:00:00 GMT"}}, 0},
		{"rfc850 date", http.Header{"Retry-After": {"Friday, 04-Dec-26 15:01:00 GMT"}}, time.Minute},
		{"milliseconds win", http.Header{"Retry-After": {"7"}, "Retry-After-Ms": {"250"}}, 250 * time.Millisecond},
		{"bad milliseconds fall back", http.Header{"Retry-After": {"7"}, "Retry-After-Ms": {"soon"}}, 7 * time.Second},
		{"negative", http.Header{"Retry-After": {"-3"}}, 0},
		{"garbage", http.Header{"Retry-After": {"later"}}, 0},
		{"huge", http.Header{"Retry-After": {"1e30"}}, maxRetryAfter},
		{"NaN", http.Header{"Retry-After": {"NaN"}}, 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.header, now); got != tt.want {
			t.Errorf("%s: parseRetryAfter(%v) = %v, want %v", tt.name, tt.header, got, tt.want)
		}
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	const key = "sk-proj-abcdefghijklmnop0123456789"
	tests := []struct{ in, key, want string }{
		{"Incorrect API key provided: " + key + ".", key, "Incorrect API key provided: [redacted]."},
		{"Incorrect API key provided: sk-proj-****6789. See docs.", key, "Incorrect API key provided: [redacted]. See docs."},
		{"invalid x-api-key", key, "invalid x-api-key"},
		{"the key my-secret-key is bad", "my-secret-key", "the key [redacted] is bad"},
		{"  lots   of\n\tspace ", "", "lots of space"},
	}
	for _, tt := range tests {
		if got := redact(tt.in, tt.key); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	long := redact(strings.Repeat("é", maxMsg), "")
	if n := utf8.RuneCountInString(long); !utf8.ValidString(long) || n > maxMsg+1 || !strings.HasSuffix(long, "…") {
		t.Errorf("redact(long) = %d runes, valid %v: want at most %d, cut at a rune, ending in …", n, utf8.ValidString(long), maxMsg+1)
	}
}

func TestErrorMessage(t *testing.T) {
	t.Parallel()
	cause := errors.New("cause")
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Kind: Unauthorized, Provider: "openai", Status: 401, Msg: "invalid api key"}, "openai: 401 Unauthorized: invalid api key"},
		{&Error{Kind: Throttled, Provider: "anthropic", Status: 429, Msg: "slow down", RetryAfter: 2 * time.Second}, "anthropic: 429 Too Many Requests: slow down (retry after 2s)"},
		{&Error{Kind: Unavailable, Provider: "anthropic", Status: 529, Msg: "Overloaded"}, "anthropic: 529 Overloaded: Overloaded"},
		{&Error{Kind: Timeout, Provider: "bedrock", Msg: "context deadline exceeded", Err: cause}, "bedrock: timeout: context deadline exceeded"},
		{&Error{Kind: Malformed, Provider: "openai", Msg: "the answer is empty"}, "openai: malformed output: the answer is empty"},
		{&Error{Kind: NotFound}, "judge: not found"},
		{&Error{Kind: Misconfigured, Msg: "unknown judge provider"}, "judge: misconfigured: unknown judge provider"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	wrapped := fmt.Errorf("run 1: %w", &Error{Kind: Timeout, Err: context.DeadlineExceeded})
	if !errors.Is(wrapped, context.DeadlineExceeded) {
		t.Error("errors.Is(wrapped, DeadlineExceeded) = false, want true through Unwrap")
	}
	if got := KindOf(wrapped); got != Timeout {
		t.Errorf("KindOf(wrapped) = %v, want timeout", got)
	}
	if got := KindOf(errors.New("plain")); got != 0 {
		t.Errorf("KindOf(plain) = %v, want unknown", got)
	}
}

func TestTransportError(t *testing.T) {
	t.Parallel()
	urlErr := func(err error) error {
		return &url.Error{Op: "Post", URL: "https://user:pass@example.com/v1", Err: err}
	}
	tests := []struct {
		name string
		err  error
		want *Error // nil: not a transport error
	}{
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), &Error{Kind: Timeout, Provider: "p", Msg: "context deadline exceeded"}},
		{"canceled", context.Canceled, &Error{Kind: Timeout, Provider: "p", Msg: "context canceled"}},
		{"refused", urlErr(&netOpError{syscall.ECONNREFUSED}), &Error{Kind: Unavailable, Provider: "p", Msg: "connection refused"}},
		{"reset", urlErr(&netOpError{syscall.ECONNRESET}), &Error{Kind: Unavailable, Provider: "p", Msg: "connection reset"}},
		{"closed before headers", urlErr(io.EOF), &Error{Kind: Unavailable, Provider: "p", Msg: "connection closed before an answer"}},
		{"body cut", fmt.Errorf("error reading response body: %w", io.ErrUnexpectedEOF), &Error{Kind: Unavailable, Provider: "p", Msg: "connection closed before a complete answer"}},
		{"truncated json", fmt.Errorf("error parsing response json: %w", io.ErrUnexpectedEOF), nil},
		{"other", errors.New("boom"), nil},
	}
	for _, tt := range tests {
		got := transportError("p", tt.err, "")
		if got != nil {
			if got.Err != tt.err {
				t.Errorf("%s: Err = %v, want the cause", tt.name, got.Err)
			}
			got.Err = nil
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: transportError() mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

// netOpError is a minimal error chain ending in a syscall errno.
type netOpError struct{ errno syscall.Errno }

func (e *netOpError) Error() string { return "dial tcp: " + e.errno.Error() }
func (e *netOpError) Unwrap() error { return e.errno }
