package judge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Kind classifies a judge failure by what the caller can do about it.
type Kind int

// The kinds of failure. The zero Kind is "unknown" and is never produced by
// this package.
const (
	// Throttled means the provider rate-limited the call (429); RetryAfter may
	// say when to try again.
	Throttled Kind = iota + 1
	// Unavailable means the provider failed (5xx, 529 overloaded) or could not
	// be reached (connection refused or reset).
	Unavailable
	// Timeout means the context deadline passed or the HTTP client gave up.
	Timeout
	// Unauthorized means the credentials were refused (401, 403) or the
	// account cannot be used (402, insufficient_quota).
	Unauthorized
	// NotFound means 404, or an unknown model.
	NotFound
	// BadRequest means any other 4xx, or a request this package refuses to send.
	BadRequest
	// Malformed means the provider answered, but not with a usable verdict.
	Malformed
	// Misconfigured means the provider is not configured (no key, unknown
	// name, bad base URL).
	Misconfigured
)

// String returns the kind's snake_case name ("throttled", "not_found", ...).
func (k Kind) String() string {
	switch k {
	case 0:
		return "unknown"
	case Throttled:
		return "throttled"
	case Unavailable:
		return "unavailable"
	case Timeout:
		return "timeout"
	case Unauthorized:
		return "unauthorized"
	case NotFound:
		return "not_found"
	case BadRequest:
		return "bad_request"
	case Malformed:
		return "malformed"
	case Misconfigured:
		return "misconfigured"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Retryable reports whether another attempt can succeed: true for Throttled,
// Unavailable, Timeout and Malformed.
func (k Kind) Retryable() bool {
	switch k {
	case Throttled, Unavailable, Timeout, Malformed:
		return true
	}
	return false
}

// label is the kind as it reads inside an error message.
func (k Kind) label() string {
	if k == Malformed {
		return "malformed output"
	}
	return strings.ReplaceAll(k.String(), "_", " ")
}

// Error is the error every Provider, Parse and Set.For return.
type Error struct {
	// Kind says what the caller can do about the failure.
	Kind Kind
	// Provider is "openai", "anthropic" or "bedrock"; empty when no provider is involved.
	Provider string
	// Status is the HTTP status the provider answered, 0 if none.
	Status int
	// RetryAfter is the provider's requested wait (Retry-After, retry-after-ms), 0 if none.
	RetryAfter time.Duration
	// Msg names the cause in words; it never contains an API key.
	Msg string
	// Err is the underlying error, if any. Its text is not part of Error().
	Err error
}

// Error returns "<provider>: <status or kind>: <cause>", for example
// "openai: 401 Unauthorized: invalid api key". It never contains an API key.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Provider != "" {
		b.WriteString(e.Provider)
	} else {
		b.WriteString("judge")
	}
	b.WriteString(": ")
	if e.Status > 0 {
		b.WriteString(strconv.Itoa(e.Status))
		if t := statusText(e.Status); t != "" {
			b.WriteByte(' ')
			b.WriteString(t)
		}
	} else {
		b.WriteString(e.Kind.label())
	}
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
	}
	if e.RetryAfter > 0 {
		b.WriteString(" (retry after ")
		b.WriteString(e.RetryAfter.String())
		b.WriteByte(')')
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of the first *Error in err's chain, or 0 ("unknown")
// if there is none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

func statusText(code int) string {
	if code == 529 {
		return "Overloaded"
	}
	return http.StatusText(code)
}

// kindForStatus maps an HTTP error status to a Kind.
func kindForStatus(code int) Kind {
	switch {
	case code == http.StatusTooManyRequests:
		return Throttled
	case code == http.StatusUnauthorized, code == http.StatusForbidden, code == http.StatusPaymentRequired:
		return Unauthorized
	case code == http.StatusNotFound:
		return NotFound
	case code == http.StatusRequestTimeout:
		return Timeout
	case code >= 500:
		return Unavailable
	default:
		return BadRequest
	}
}

// maxRetryAfter caps a server-directed wait so that an absurd header cannot
// overflow a time.Duration.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads retry-after-ms (milliseconds) or Retry-After (seconds
// or an HTTP-date), preferring the former. It returns 0 when neither is usable.
func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	if h == nil {
		return 0
	}
	clamp := func(f float64, unit time.Duration) time.Duration {
		if math.IsNaN(f) || f <= 0 {
			return 0
		}
		if f*float64(unit) >= float64(maxRetryAfter) {
			return maxRetryAfter
		}
		return time.Duration(f * float64(unit))
	}
	if v := strings.TrimSpace(h.Get("retry-after-ms")); v != "" {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			if d := clamp(f, time.Millisecond); d > 0 {
				return d
			}
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return clamp(f, time.Second)
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d <= 0 {
			return 0
		}
		return min(d, maxRetryAfter)
	}
	return 0
}

// keyLike matches OpenAI and Anthropic API keys and their masked echoes
// ("sk-proj-****abcd"), which providers quote in 401 messages.
var keyLike = regexp.MustCompile(`\bsk-[A-Za-z0-9_*\-]{3,}`)

// maxMsg bounds the cause text kept in an Error.
const maxMsg = 500

// redact removes key and anything that looks like an API key from s, and bounds its length.
func redact(s, key string) string {
	if key != "" {
		s = strings.ReplaceAll(s, key, "[redacted]")
	}
	s = keyLike.ReplaceAllString(s, "[redacted]")
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxMsg {
		cut := maxMsg
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// apiError builds the error for an HTTP error answer.
func apiError(provider string, status int, h http.Header, msg, key string, now time.Time, cause error) *Error {
	e := &Error{
		Kind:       kindForStatus(status),
		Provider:   provider,
		Status:     status,
		RetryAfter: parseRetryAfter(h, now),
		Msg:        redact(msg, key),
		Err:        cause,
	}
	if e.Msg == "" {
		e.Msg = e.Kind.label()
	}
	return e
}

// transportError classifies an error that carries no HTTP status: context
// expiry, client timeouts and network failures. It returns nil when err is
// none of those.
func transportError(provider string, err error, key string) *Error {
	wrap := func(k Kind, msg string) *Error {
		return &Error{Kind: k, Provider: provider, Msg: redact(msg, key), Err: err}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return wrap(Timeout, "context deadline exceeded")
	case errors.Is(err, context.Canceled):
		return wrap(Timeout, "context canceled")
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return wrap(Timeout, "the HTTP client timed out")
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return wrap(Unavailable, "connection refused")
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return wrap(Unavailable, "connection reset")
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if errors.Is(ue.Err, io.EOF) || errors.Is(ue.Err, io.ErrUnexpectedEOF) {
			return wrap(Unavailable, "connection closed before an answer")
		}
		// The URL is left out: a base URL may carry credentials.
		return wrap(Unavailable, ue.Err.Error())
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return wrap(Unavailable, oe.Error())
	}
	// A body cut short in transit, as opposed to a complete body that is not
	// valid JSON (the SDKs say "error parsing response json" for the latter).
	var se *json.SyntaxError
	if (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)) &&
		!errors.As(err, &se) && !strings.Contains(err.Error(), "parsing") {
		return wrap(Unavailable, "connection closed before a complete answer")
	}
	return nil
}

// unreadable is the error for a 2xx answer the SDK could not decode.
func unreadable(provider string, err error, key string) *Error {
	return &Error{Kind: Malformed, Provider: provider, Msg: redact("unreadable response: "+err.Error(), key), Err: err}
}

// malformed builds a Malformed error for provider.
func malformed(provider, format string, a ...any) *Error {
	return &Error{Kind: Malformed, Provider: provider, Msg: fmt.Sprintf(format, a...)}
}
