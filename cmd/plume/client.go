package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// client calls Plume's HTTP API with one API key.
type client struct {
	base     string // no trailing slash; may carry a path (an API Gateway stage)
	key      string
	loopback bool
	hc       *http.Client
}

// maxResponse bounds a response body; a page of 200 runs is far smaller.
const maxResponse = 64 << 20

// maxAttempts is how often a 503 (the API's "try again", with Retry-After)
// is tried. Every 503 of the API leaves nothing changed, so a retry is safe
// for every method.
const maxAttempts = 3

// apiError is a non-2xx answer: an ErrorResponse, an HTTPValidationError
// (422) or, from something in front of the API, neither.
type apiError struct {
	Status  int
	Code    string       // ErrorResponse.error
	Message string       // ErrorResponse.message
	Detail  []fieldError // HTTPValidationError.detail
	Body    string       // the start of a body of neither shape
}

// fieldError is one entry of a 422's detail.
type fieldError struct {
	Loc  []any  `json:"loc"`
	Msg  string `json:"msg"`
	Type string `json:"type"`
}

func (e *apiError) Error() string {
	var b strings.Builder
	switch {
	case len(e.Detail) > 0:
		fmt.Fprintf(&b, "%d validation error", e.Status)
		for _, d := range e.Detail {
			fmt.Fprintf(&b, "\n  %s: %s", joinLoc(d.Loc), d.Msg)
		}
	case e.Code != "":
		fmt.Fprintf(&b, "%d %s: %s", e.Status, e.Code, e.Message)
	default:
		fmt.Fprintf(&b, "%d %s", e.Status, http.StatusText(e.Status))
		if e.Body != "" {
			fmt.Fprintf(&b, ": %s", e.Body)
		}
	}
	if e.Status == http.StatusUnauthorized {
		b.WriteString(" (check --key or PLUME_API_KEY)")
	}
	return b.String()
}

// joinLoc renders a pydantic loc such as ["body", "turns", 0, "role"] as
// body.turns.0.role.
func joinLoc(loc []any) string {
	parts := make([]string, len(loc))
	for i, p := range loc {
		parts[i] = fmt.Sprint(p)
	}
	return strings.Join(parts, ".")
}

func decodeError(status int, body []byte) *apiError {
	e := &apiError{Status: status}
	var shape struct {
		Error   string          `json:"error"`
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(body, &shape) == nil {
		e.Code, e.Message = shape.Error, shape.Message
		if len(shape.Detail) > 0 && json.Unmarshal(shape.Detail, &e.Detail) == nil && len(e.Detail) > 0 {
			return e
		}
		e.Detail = nil
		if e.Code != "" {
			return e
		}
		if len(shape.Detail) > 0 { // FastAPI's {"detail": "Not Found"}
			var s string
			if json.Unmarshal(shape.Detail, &s) == nil {
				e.Body = s
				return e
			}
		}
	}
	e.Body = oneLine(string(body), 200)
	return e
}

// isCode reports whether err is an API error with that ErrorResponse code.
func isCode(err error, code string) bool {
	var e *apiError
	return errors.As(err, &e) && e.Code == code
}

// do sends one request and decodes a 2xx body into out (when not nil). It
// returns the status of the answer.
func (c *client) do(ctx context.Context, method, path string, q url.Values, body []byte, out any) (int, error) {
	target := c.base + path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		req.Header.Set("x-api-key", c.key)
		req.Header.Set("accept", "application/json")
		req.Header.Set("user-agent", "plume-cli")
		if body != nil {
			req.Header.Set("content-type", "application/json")
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			return 0, c.netError(ctx, err)
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
		resp.Body.Close()
		if err != nil {
			return 0, fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
		}
		if resp.StatusCode == http.StatusServiceUnavailable && attempt < maxAttempts {
			if err := sleep(ctx, retryAfter(resp.Header.Get("Retry-After"))); err != nil {
				return 0, err
			}
			continue
		}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return resp.StatusCode, decodeError(resp.StatusCode, data)
		}
		if out != nil {
			if err := json.Unmarshal(data, out); err != nil {
				return resp.StatusCode, fmt.Errorf("%s %s: the answer is not the expected JSON: %w", method, path, err)
			}
		}
		return resp.StatusCode, nil
	}
}

func (c *client) netError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	msg := fmt.Sprintf("cannot reach the API at %s: %v", c.base, err)
	if c.loopback && errors.Is(err, syscall.ECONNREFUSED) {
		msg += " (is make dev running?)"
	}
	return errors.New(msg)
}

// retryAfter reads Retry-After seconds, between 1 and 5.
func retryAfter(v string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		n = 1
	}
	return time.Duration(min(max(n, 1), 5)) * time.Second
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// oneLine returns s on one line, cut to n runes with an ellipsis.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// The API's answers, as far as the CLI reads them.

type taskAccepted struct {
	TaskID string `json:"task_id"`
	Status string `json:"status"`
}

type task struct {
	TaskID     string  `json:"task_id"`
	SessionID  string  `json:"session_id"`
	Kind       string  `json:"kind"`
	Status     string  `json:"status"`
	Total      int     `json:"total"`
	Completed  int     `json:"completed"`
	Failed     int     `json:"failed"`
	Errored    int     `json:"errored"`
	Pending    int     `json:"pending"`
	CreatedAt  string  `json:"created_at"`
	FinishedAt *string `json:"finished_at"`
}

type evalRun struct {
	ID           string  `json:"id"`
	SessionID    string  `json:"session_id"`
	EvaluatorID  string  `json:"evaluator_id"`
	Status       string  `json:"status"`
	Outcome      *string `json:"outcome"`
	ErrorText    *string `json:"error_text"`
	KindSnapshot string  `json:"kind_snapshot"`
	CreatedAt    string  `json:"created_at"`
	Scores       []struct {
		Value  float64 `json:"value"`
		Passed bool    `json:"passed"`
	} `json:"scores"`
	TaskID       string  `json:"task_id"`
	InputTokens  int64   `json:"input_tokens"`
	OutputTokens int64   `json:"output_tokens"`
	CostUSD      float64 `json:"cost_usd"`
	LatencyMS    int64   `json:"latency_ms"`
}

type page struct {
	Items      []json.RawMessage `json:"items"`
	HasMore    bool              `json:"has_more"`
	NextCursor *string           `json:"next_cursor"`
}

func (c *client) task(ctx context.Context, id string) (task, error) {
	var t task
	_, err := c.do(ctx, http.MethodGet, "/v1/eval-tasks/"+url.PathEscape(id), nil, nil, &t)
	return t, err
}

// runs returns one page of GET /v1/eval-runs.
func (c *client) runs(ctx context.Context, q url.Values) (page, error) {
	var p page
	_, err := c.do(ctx, http.MethodGet, "/v1/eval-runs", q, nil, &p)
	return p, err
}

// evaluatorNames returns the names of the evaluators of runs; an evaluator
// that cannot be read (deleted since) keeps its id.
func (c *client) evaluatorNames(ctx context.Context, runs []evalRun) map[string]string {
	names := map[string]string{}
	for _, r := range runs {
		if _, ok := names[r.EvaluatorID]; ok || r.EvaluatorID == "" {
			continue
		}
		names[r.EvaluatorID] = r.EvaluatorID
		var e struct {
			Name string `json:"name"`
		}
		if _, err := c.do(ctx, http.MethodGet, "/v1/evaluators/"+url.PathEscape(r.EvaluatorID), nil, nil, &e); err == nil && e.Name != "" {
			names[r.EvaluatorID] = e.Name
		}
	}
	return names
}
