package judgetest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Verdict is the answer a scripted judge gives.
type Verdict struct {
	Score     *float64 // for format "score"
	Passed    *bool    // for format "boolean"
	Rationale string
}

// ScoreVerdict returns a score verdict.
func ScoreVerdict(score float64, rationale string) Verdict {
	return Verdict{Score: &score, Rationale: rationale}
}

// PassedVerdict returns a boolean verdict.
func PassedVerdict(passed bool, rationale string) Verdict {
	return Verdict{Passed: &passed, Rationale: rationale}
}

// JSON returns v as the judge writes it: {"score": ..., "rationale": ...} or
// {"passed": ..., "rationale": ...}.
func (v Verdict) JSON() string {
	var b strings.Builder
	b.WriteByte('{')
	switch {
	case v.Score != nil:
		b.WriteString(`"score":`)
		b.WriteString(strconv.FormatFloat(*v.Score, 'g', -1, 64))
		b.WriteByte(',')
	case v.Passed != nil:
		b.WriteString(`"passed":`)
		b.WriteString(strconv.FormatBool(*v.Passed))
		b.WriteByte(',')
	}
	r, _ := json.Marshal(v.Rationale)
	b.WriteString(`"rationale":`)
	b.Write(r)
	b.WriteByte('}')
	return b.String()
}

// Usage is the token usage a scripted answer reports.
type Usage struct {
	InputTokens, OutputTokens int64
}

// Step scripts the server's answer to one request. The zero Step answers with
// a default verdict of the requested format (score 1, or passed true).
// Build steps with the constructors (Score, RateLimited, Hang, ...) and adjust
// them with the With... and After methods.
type Step struct {
	// Latency delays the answer (the wait ends early if the client gives up).
	Latency time.Duration
	// Hang holds the request open until the client gives up or the server closes.
	Hang bool
	// Status, if 400 or more, answers with that status and the provider's error
	// body {"error": {"type": ErrorType, "message": ErrorMessage}} (Bedrock:
	// {"__type": ErrorType, "message": ErrorMessage}). Empty type and message
	// get the provider's usual ones for the status.
	Status       int
	ErrorType    string
	ErrorMessage string
	// ErrorCode is OpenAI's error.code ("insufficient_quota", ...); ignored elsewhere.
	ErrorCode string
	// Header is added to the response, error or not (Retry-After, ...).
	Header http.Header
	// RawBody, if set, is sent verbatim with status 200: a broken envelope.
	RawBody string
	// Text, if set, is the model's output verbatim: malformed or prose-wrapped JSON.
	Text string
	// Verdict computes the model's output from the request, if Text is empty.
	Verdict func(Request) Verdict
	// Refusal makes the model refuse, with this explanation.
	Refusal string
	// Finish overrides finish_reason (OpenAI), stop_reason (Anthropic) or
	// stopReason (Bedrock), for example "length" or "max_tokens".
	Finish string
	// Usage overrides the reported usage; nil estimates it as bytes/4.
	Usage *Usage
	// Model overrides the model reported in the answer (default: the requested one).
	Model string
}

// Score answers with a score verdict.
func Score(score float64, rationale string) Step {
	v := ScoreVerdict(score, rationale)
	return Step{Verdict: func(Request) Verdict { return v }}
}

// Passed answers with a boolean verdict.
func Passed(passed bool, rationale string) Step {
	v := PassedVerdict(passed, rationale)
	return Step{Verdict: func(Request) Verdict { return v }}
}

// Compute answers with the verdict f computes from the request, for example
// from r.Turns().
func Compute(f func(r Request) Verdict) Step { return Step{Verdict: f} }

// Text answers with s as the model's output, verbatim.
func Text(s string) Step { return Step{Text: s} }

// Malformed answers with prose and no JSON at all.
func Malformed() Step {
	return Text("The agent did reasonably well overall, I would say about eight out of ten.")
}

// ProseWrapped answers with a valid verdict wrapped in prose, which a strict
// parser must refuse.
func ProseWrapped(v Verdict) Step {
	return Text("Here is my evaluation:\n" + v.JSON() + "\nLet me know if you need anything else.")
}

// BrokenBody answers 200 with a response body that is not valid JSON.
func BrokenBody() Step { return Step{RawBody: `{"id": "judgetest", "choices": [`} }

// Refuse makes the model refuse to answer.
func Refuse(why string) Step { return Step{Refusal: why} }

// Status answers with an HTTP error status and the provider's error body.
// Empty errType and msg get the provider's usual ones for code.
func Status(code int, errType, msg string) Step {
	return Step{Status: code, ErrorType: errType, ErrorMessage: msg}
}

// RateLimited answers 429; retryAfter, if not empty, is sent as the
// Retry-After header (seconds or an HTTP-date).
func RateLimited(retryAfter string) Step {
	s := Step{Status: http.StatusTooManyRequests}
	if retryAfter != "" {
		s = s.WithHeader("Retry-After", retryAfter)
	}
	return s
}

// ServerError answers 500.
func ServerError() Step { return Step{Status: http.StatusInternalServerError} }

// Overloaded answers 529, Anthropic's "overloaded_error".
func Overloaded() Step { return Step{Status: 529} }

// Hang never answers: the request stays open until the client gives up.
func Hang() Step { return Step{Hang: true} }

// After returns s delayed by d.
func (s Step) After(d time.Duration) Step { s.Latency = d; return s }

// WithHeader returns s with a response header added.
func (s Step) WithHeader(key, value string) Step {
	h := s.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Add(key, value)
	s.Header = h
	return s
}

// WithUsage returns s reporting the given token usage.
func (s Step) WithUsage(in, out int64) Step {
	s.Usage = &Usage{InputTokens: in, OutputTokens: out}
	return s
}

// WithFinish returns s with its finish or stop reason overridden.
func (s Step) WithFinish(reason string) Step { s.Finish = reason; return s }

// WithModel returns s reporting model as the model that answered.
func (s Step) WithModel(model string) Step { s.Model = model; return s }

// Request is one request as the server received it, with the parts a judge
// test asserts on already read out of the provider's wire format.
type Request struct {
	// Method and Path are the HTTP method and URL path.
	Method string
	Path   string
	// Header is the request's headers (credentials included: it is a test server).
	Header http.Header
	// Body is the raw JSON body.
	Body []byte
	// Model is the requested model id.
	Model string
	// System is the text of the system message(s).
	System string
	// User is the text of the user message(s).
	User string
	// Temperature is the sampling temperature, nil when none was sent.
	Temperature *float64
	// MaxTokens is max_completion_tokens / max_tokens / maxTokens, 0 when none was sent.
	MaxTokens int64
	// Schema is the JSON Schema of the requested answer (OpenAI
	// response_format.json_schema.schema, Anthropic output_config.format.schema
	// or a forced tool's input schema, Bedrock's forced tool input schema).
	Schema map[string]any
	// Format is "score" or "boolean" as read from Schema, "" if unknown.
	Format string
	// Tool is the name of the tool the request forces, "" if none.
	Tool string
}

// JSON decodes the raw body into v.
func (r Request) JSON(v any) error { return json.Unmarshal(r.Body, v) }

// Transcript returns the text between <transcript> and </transcript> in the
// user message, and whether exactly one such pair was found.
func (r Request) Transcript() (string, bool) {
	if strings.Count(r.User, "<transcript>") != 1 || strings.Count(r.User, "</transcript>") != 1 {
		return "", false
	}
	_, rest, _ := strings.Cut(r.User, "<transcript>")
	inner, _, _ := strings.Cut(rest, "</transcript>")
	return strings.TrimSpace(inner), true
}

// Turn is one turn of the transcript as the judge receives it.
type Turn struct {
	Role      string `json:"role"`
	Content   string `json:"content"`
	CreatedAt string `json:"created_at,omitempty"`
}

// Turns decodes the transcript (the JSON {"turns": [...]} inside the
// <transcript> tags).
func (r Request) Turns() ([]Turn, error) {
	inner, ok := r.Transcript()
	if !ok {
		return nil, errNoTranscript
	}
	var t struct {
		Turns []Turn `json:"turns"`
	}
	if err := json.Unmarshal([]byte(inner), &t); err != nil {
		return nil, err
	}
	return t.Turns, nil
}

type errString string

func (e errString) Error() string { return string(e) }

const errNoTranscript = errString("judgetest: no single <transcript>…</transcript> in the user message")

// wireError is a request the real API would refuse.
type wireError struct {
	status int
	typ    string
	msg    string
}

// reply is what a flavor writes for a successful step.
type reply struct {
	n       int    // request number, from 1
	model   string // model to report
	text    string // model output text
	object  bool   // text is a JSON object (usable as tool input)
	refusal string
	finish  string // override
	usage   Usage
	req     Request
}

// flavor is one provider's wire format.
type flavor interface {
	// read checks the request as the real API would and fills req.
	read(r *http.Request, body []byte, req *Request) *wireError
	// writeError writes the provider's error answer.
	writeError(w http.ResponseWriter, n, status int, typ, code, msg string)
	// writeReply writes the provider's success answer.
	writeReply(w http.ResponseWriter, rep reply)
}

// Server is a local judge API that answers from a script. It is safe for
// concurrent use.
type Server struct {
	// URL is the base URL to give the provider (the server's root, "http://127.0.0.1:port").
	URL string

	srv    *httptest.Server
	flavor flavor
	done   chan struct{}
	once   sync.Once

	mu     sync.Mutex
	script []Step
	next   int
	reqs   []Request
}

func start(f flavor, script []Step) *Server {
	s := &Server{flavor: f, done: make(chan struct{}), script: script}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

func startT(t testing.TB, f flavor, script []Step) *Server {
	t.Helper()
	s := start(f, script)
	t.Cleanup(s.Close)
	return s
}

// Close releases hanging requests and stops the server.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.done)
		s.srv.Close()
	})
}

// Count returns how many requests the server has received.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

// Requests returns the requests received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Push appends steps to the script.
func (s *Server) Push(steps ...Step) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, steps...)
}

// take returns the step for the next request: the script in order, then its
// last step again and again.
func (s *Server) take() Step {
	switch {
	case len(s.script) == 0:
		return Step{}
	case s.next < len(s.script):
		s.next++
		return s.script[s.next-1]
	default:
		return s.script[len(s.script)-1]
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
	werr := s.flavor.read(r, body, &req)

	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	n := len(s.reqs)
	var step Step
	if werr == nil {
		step = s.take()
	}
	s.mu.Unlock()

	if werr != nil {
		s.flavor.writeError(w, n, werr.status, werr.typ, "", werr.msg)
		return
	}
	if step.Hang {
		s.wait(r.Context(), -1)
	}
	if step.Hang || !s.wait(r.Context(), step.Latency) {
		// The client gave up or the server is closing: drop the connection
		// without an answer.
		panic(http.ErrAbortHandler)
	}
	for k, vs := range step.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	switch {
	case step.Status >= 400:
		s.flavor.writeError(w, n, step.Status, step.ErrorType, step.ErrorCode, step.ErrorMessage)
		return
	case step.RawBody != "":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, step.RawBody)
		return
	}

	rep := reply{n: n, model: req.Model, refusal: step.Refusal, finish: step.Finish, req: req}
	if step.Model != "" {
		rep.model = step.Model
	}
	switch {
	case step.Refusal != "":
	case step.Text != "":
		rep.text = step.Text
	case step.Verdict != nil:
		rep.text = step.Verdict(req).JSON()
	case req.Format == "boolean":
		rep.text = PassedVerdict(true, "judgetest default verdict").JSON()
	default:
		rep.text = ScoreVerdict(1, "judgetest default verdict").JSON()
	}
	t := strings.TrimSpace(rep.text)
	rep.object = strings.HasPrefix(t, "{") && json.Valid([]byte(t))
	if step.Usage != nil {
		rep.usage = *step.Usage
	} else {
		rep.usage = Usage{
			InputTokens:  max(1, int64(len(req.System)+len(req.User)+3)/4),
			OutputTokens: max(1, int64(len(rep.text)+3)/4),
		}
	}
	s.flavor.writeReply(w, rep)
}

// wait sleeps for d (forever if d < 0) and reports whether the request should
// still be answered.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	if d == 0 {
		return true
	}
	var timer <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-timer:
		return true
	case <-ctx.Done():
	case <-s.done:
	}
	return false
}

// writeJSON writes v as a JSON answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// formatOf reads the answer format from a schema's properties.
func formatOf(schema map[string]any) string {
	props, _ := schema["properties"].(map[string]any)
	switch {
	case props["score"] != nil:
		return "score"
	case props["passed"] != nil:
		return "boolean"
	}
	return ""
}

// textOf concatenates a message content that is a string or a list of
// {"type": "text", "text": ...} blocks.
func textOf(content any) (string, bool) {
	switch c := content.(type) {
	case string:
		return c, true
	case []any:
		var b strings.Builder
		for _, part := range c {
			p, ok := part.(map[string]any)
			if !ok {
				return "", false
			}
			if t, ok := p["text"].(string); ok {
				b.WriteString(t)
			}
		}
		return b.String(), true
	}
	return "", false
}

// number reads a JSON number field.
func number(m map[string]any, key string) (float64, bool) {
	v, ok := m[key].(float64)
	return v, ok
}

// statusMessage is a generic error message for a status.
func statusMessage(status int) string {
	if status == 529 {
		return "Overloaded"
	}
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "error " + strconv.Itoa(status)
}
