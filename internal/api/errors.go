package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/plume-evals/plume/internal/eval"
)

// errorResponse is Feather's ErrorResponse.
type errorResponse struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// statuses is the one table that turns error kinds into HTTP answers.
var statuses = []struct {
	kind   error
	status int
	code   string
	msg    string // used when the error carries no client-safe message
}{
	{eval.ErrUnauthorized, http.StatusUnauthorized, "unauthorized", "a valid x-api-key header is required"},
	{eval.ErrNotFound, http.StatusNotFound, "not_found", "resource not found"},
	{eval.ErrInProgress, http.StatusConflict, "eval_in_progress", "an evaluation of this conversation is in progress"},
	{eval.ErrStale, http.StatusConflict, "eval_in_progress", "an evaluation of this conversation is in progress"},
	{eval.ErrNotRetryable, http.StatusConflict, "run_not_retryable", "only failed or errored runs can be retried"},
	{eval.ErrDuplicate, http.StatusConflict, "duplicate_binding", "the evaluator is already bound to that target"},
	{eval.ErrInvalid, http.StatusBadRequest, "bad_request", "the request cannot be accepted"},
	{eval.ErrTooLarge, http.StatusRequestEntityTooLarge, "payload_too_large", "the request body is larger than 1 MiB"},
	{eval.ErrUnavailable, http.StatusServiceUnavailable, "service_unavailable", "the service is temporarily unavailable; try again"},
}

// retryAfter is the Retry-After of every 503, in seconds.
const retryAfter = "2"

// fail writes err as an ErrorResponse. Errors of no known kind are 500
// with a generic message; their detail goes to the log only.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil && errors.Is(err, r.Context().Err()) {
		// The client went away (or the Lambda deadline passed): nothing
		// failed on our side, and nobody reads the answer.
		a.log(r).InfoContext(r.Context(), "request abandoned by the client", "err", err)
		w.Header().Set("Retry-After", retryAfter)
		writeJSON(w, http.StatusServiceUnavailable, errorResponse{"service_unavailable", "the request was cancelled"})
		return
	}
	for _, s := range statuses {
		if errors.Is(err, s.kind) {
			msg := eval.Message(err)
			if msg == "" {
				msg = s.msg
			}
			if s.status == http.StatusServiceUnavailable {
				w.Header().Set("Retry-After", retryAfter)
				a.log(r).WarnContext(r.Context(), "unavailable", "err", err)
			}
			writeJSON(w, s.status, errorResponse{s.code, msg})
			return
		}
	}
	a.log(r).ErrorContext(r.Context(), "internal error", "err", err)
	writeJSON(w, http.StatusInternalServerError, errorResponse{"internal_error", "an internal error occurred; it has been logged"})
}

// invalid writes a 422 HTTPValidationError.
func invalid(w http.ResponseWriter, p problems) {
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": []ValidationError(p)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func (a *API) log(r *http.Request) *slog.Logger {
	return a.Log.With("request_id", requestID(r))
}

// requestID is API Gateway's request id when behind it, else the client's
// x-request-id, else "".
func requestID(r *http.Request) string {
	if id := r.Header.Get("x-amzn-request-id"); id != "" {
		return id
	}
	return r.Header.Get("x-request-id")
}
