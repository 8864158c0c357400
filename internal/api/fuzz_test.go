package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/plume-evals/plume"
	"github.com/plume-evals/plume/internal/api"
	"github.com/plume-evals/plume/internal/eval"
	"github.com/plume-evals/plume/internal/store"
)

// The fuzz targets drive request decoding, the trust boundary of the API,
// through the real handler over fuzzStore, an in-memory store that panics
// when a handler hands it data that validation should have refused. The
// API turns a panic into a 500, so each target's invariants are: never a
// 5xx, and an answer in the contract's shape (contractShaped).
//
//	go test -run '^$' -fuzz FuzzConversationBody -fuzztime 15s ./internal/api/

const (
	fuzzKey       = "fuzz-key"
	fuzzOrg       = "00000000-0000-4000-8000-00000000f00d"
	fuzzEvaluator = "00000000-0000-4000-8000-0000000000e1" // an active evaluator
	fuzzBinding   = "00000000-0000-4000-8000-0000000000b1"
	fuzzRun       = "00000000-0000-4000-8000-0000000000a9"
	fuzzConv      = "00000000-0000-4000-8000-0000000000c1"
	fuzzCursor    = "good-cursor" // the only cursor fuzzStore accepts
)

var fuzzHandler = sync.OnceValue(func() http.Handler {
	now := func() time.Time { return clock }
	a := &api.API{Store: newFuzzStore(), Tasks: fuzzTasks{}, Check: func(string, map[string]any) error { return nil },
		OpenAPI: plume.OpenAPI, Now: now, NewID: uuid.NewString, Log: quietLog(), KeyTTL: time.Hour}
	return a.Handler()
})

// fuzzServe sends one request with the fuzz key and checks the invariants.
func fuzzServe(t *testing.T, method, target string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	u, err := url.ParseRequestURI(target)
	if err != nil {
		t.Skip() // not a request a client can send
	}
	req := httptest.NewRequest(method, "/", bytes.NewReader(body))
	req.URL, req.RequestURI = u, target
	req.Header.Set("x-api-key", fuzzKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := serveRec(fuzzHandler(), req)
	if err := contractShaped(rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
		t.Fatalf("%s %.200s with body %.300q: %v", method, target, body, err)
	}
	return rec
}

// Seeds shared by the body targets: each is valid JSON of the wrong shape,
// or not JSON at all.
var fuzzJunk = []string{"", " ", "{", "}", "[]", "null", "1e400", `"x"`, "{}", `{"a": 1}]`, "\xff", `{"a": "\xff"}`,
	strings.Repeat("[", 100) + strings.Repeat("]", 100), `{"a": NaN}`, "\ufeff{}"}

func FuzzConversationBody(f *testing.F) {
	for _, s := range fuzzJunk {
		f.Add([]byte(s))
	}
	for _, s := range []string{
		`{"agent_id": "00000000-0000-4000-8000-0000000000a1", "session_type": "live", "channel": "chat", "status": "active"}`,
		`{"agent_id": "00000000-0000-4000-8000-0000000000a1", "scenario_id": null, "session_type": "test", "channel": "voice", "status": "closed",
		  "started_at": "2026-12-04T12:00:00Z", "ended_at": "2026-12-04T12:05:00+01:00", "metadata": {"tier": "gold", "n": [1, 2.5, {"x": null}]},
		  "turns": [{"role": "user", "content": "hi", "created_at": "2026-12-04T12:00:01Z"},
		            {"id": "00000000-0000-4000-8000-0000000000d1", "role": "assistant", "content": "hello",
		             "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
		             "tool_results": {"tool_call_id": "c1", "output": "ok"}}]}`,
		`{"agent_id": "00000000-0000-4000-8000-0000000000a1", "session_type": "simulation", "channel": "", "status": "expired"}`,
		`{"agent_id": 1, "session_type": ["live"], "channel": {}, "status": null, "turns": [1, null, {"role": "bot"}]}`,
		`{"agent_id": "00000000-0000-4000-8000-0000000000a1", "session_type": "live", "channel": "c", "status": "active", "metadata": {"big": 1e400}}`,
		`{"agent_id": "00000000-0000-4000-8000-0000000000a1", "session_type": "live", "channel": "c", "status": "active", "turns": [{"role": "tool", "content": "x", "tool_calls": {"a": 1}, "tool_results": "r"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzServe(t, "PUT", "/v1/v2/conversations/"+fuzzConv, body)
	})
}

func FuzzEvaluatorBody(f *testing.F) {
	for _, s := range fuzzJunk {
		f.Add([]byte(s), false)
	}
	for _, s := range []string{
		`{"name": "n", "kind": "regex", "format": "boolean", "severity": "high", "config": {"pattern": "(?i)refund", "target": "assistant", "must_match": true}}`,
		`{"name": "n", "kind": "expression", "threshold": 0.7, "config": {"expression": "size(conversation.turns) > 1"}}`,
		`{"name": "n", "prompt": "Rate it.", "description": null, "config": {"provider": "anthropic", "model": "m", "temperature": 1.5, "max_tokens": 100}}`,
		`{"name": "n", "prompt": "p", "config": {"temperature": 3, "max_tokens": 1.5, "provider": "x", "model": ""}}`,
		`{"name": "", "kind": "llm", "threshold": "high", "config": [], "status": "gone"}`,
		`{"name": "n", "prompt": "p", "threshold": 1e400}`,
		`{"status": "archived"}`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, patch bool) {
		if patch {
			fuzzServe(t, "PATCH", "/v1/evaluators/"+fuzzEvaluator, body)
			return
		}
		fuzzServe(t, "POST", "/v1/evaluators", body)
	})
}

func FuzzBindingBody(f *testing.F) {
	for _, s := range fuzzJunk {
		f.Add([]byte(s), uint8(0))
	}
	for _, s := range []string{
		`{"evaluator_id": "` + fuzzEvaluator + `", "scope": "agent", "agent_id": "00000000-0000-4000-8000-0000000000a1", "is_critical": true}`,
		`{"evaluator_id": "` + fuzzEvaluator + `", "scope": "scenario", "scenario_id": "00000000-0000-4000-8000-0000000000a2", "agent_id": null}`,
		`{"evaluator_id": "` + fuzzEvaluator + `", "scope": "agent", "scenario_id": "00000000-0000-4000-8000-0000000000a2"}`,
		`{"evaluator_id": "e1", "scope": "team", "is_critical": "yes"}`,
		`{"is_critical": false}`, `{"is_critical": null}`, `{"evaluate_live": false, "evaluate_test": null}`, `{"evaluate_test": 1}`,
	} {
		for route := range uint8(3) {
			f.Add([]byte(s), route)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, route uint8) {
		switch route % 3 {
		case 0:
			fuzzServe(t, "POST", "/v1/evaluator-bindings", body)
		case 1:
			fuzzServe(t, "PATCH", "/v1/evaluator-bindings/"+fuzzBinding, body)
		case 2: // the last body route: an agent's eval config
			fuzzServe(t, "PUT", "/v1/agents/00000000-0000-4000-8000-0000000000a1/eval-config", body)
		}
	})
}

// fuzzLists are the routes that read a query string.
var fuzzLists = []string{"/v1/eval-runs", "/v1/evaluators", "/v1/evaluator-bindings", "/v1/eval-runs/" + fuzzRun}

func FuzzQuery(f *testing.F) {
	for i, q := range []string{
		"", "limit=1", "limit=0", "limit=201", "limit=", "limit=abc&limit=2", "cursor=" + fuzzCursor, "cursor=bad", "cursor=",
		"session_id=" + fuzzConv + "&evaluator_id=" + fuzzEvaluator + "&agent_id=x&task_id=&status=completed&scope=live&outcome=passed",
		"score_min=0.5&score_max=NaN", "score_min=1e400", "status=archived", "status=%ff", "scenario_id=%00",
		"include=session,turns", "include=" + strings.Repeat("turns,", 50), "include=%zz", "a=1;b=2", "&&==&",
	} {
		f.Add(uint8(i), q)
	}
	f.Fuzz(func(t *testing.T, route uint8, query string) {
		path := fuzzLists[int(route)%len(fuzzLists)]
		// The raw query as is: r.URL.Query() reads what it can of it.
		req := httptest.NewRequest("GET", "/", nil)
		req.URL = &url.URL{Path: path, RawQuery: query}
		req.RequestURI = req.URL.RequestURI()
		req.Header.Set("x-api-key", fuzzKey)
		rec := serveRec(fuzzHandler(), req)
		if err := contractShaped(rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
			t.Fatalf("GET %s?%q: %v", path, query, err)
		}
		// A cursor other than the store's own never returns data.
		if c := lastValue(query, "cursor"); c != "" && c != fuzzCursor && rec.Code == http.StatusOK && !strings.HasPrefix(path, "/v1/eval-runs/") {
			t.Fatalf("GET %s?%s: a bad cursor was answered 200: %s", path, query, rec.Body)
		}
	})
}

// lastValue is the last value of a query parameter, as the API reads it.
func lastValue(query, name string) string {
	v, _ := url.ParseQuery(query)
	if vs := v[name]; len(vs) > 0 {
		return vs[len(vs)-1]
	}
	return ""
}

func FuzzPathIDs(f *testing.F) {
	for i, id := range []string{fuzzConv, "x", "", "00000000-0000-4000-8000-00000000000", "00000000000040008000000000000001",
		"{00000000-0000-4000-8000-000000000001}", "urn:uuid:00000000-0000-4000-8000-000000000001", "..", "%2F", "a/b", "\x00",
		"ÿ", strings.ToUpper(fuzzEvaluator), fuzzEvaluator, fuzzBinding, fuzzRun} {
		f.Add(uint8(i), id)
	}
	f.Fuzz(func(t *testing.T, route uint8, id string) {
		r := pathRoutes[int(route)%len(pathRoutes)]
		req := httptest.NewRequest(r.method, "/", strings.NewReader(`{}`))
		req.URL = &url.URL{Path: fmt.Sprintf(r.path, id)}
		req.RequestURI = req.URL.EscapedPath()
		req.Header.Set("x-api-key", fuzzKey)
		rec := serveRec(fuzzHandler(), req)
		if err := contractShaped(rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
			t.Fatalf("%s %q: %v", r.method, req.URL.Path, err)
		}
		// An id that is not a UUID never reaches the store: 422 on the
		// path parameter, or no route at all.
		if _, err := uuid.Parse(id); (err != nil || len(id) != 36) && rec.Code != 422 && rec.Code != 404 && rec.Code != 405 {
			t.Fatalf("%s %q: not a UUID, answered %d %s", r.method, req.URL.Path, rec.Code, rec.Body)
		}
	})
}

// fuzzTasks accepts every reevaluate and retry.
type fuzzTasks struct{}

func (fuzzTasks) Reevaluate(_ context.Context, orgID, sessionID string) (eval.Task, error) {
	mustUUID("reevaluate session", sessionID)
	return eval.Task{ID: uuid.NewString(), OrgID: orgID, SessionID: sessionID, Kind: eval.TaskReevaluate, Status: eval.TaskQueued}, nil
}

func (fuzzTasks) Retry(_ context.Context, orgID, runID string) (eval.Task, error) {
	mustUUID("retry run", runID)
	return eval.Task{}, eval.Errorf(eval.ErrNotFound, "run %s not found", runID)
}

// fuzzStore is an in-memory api.Store whose writes and reads check what
// the handlers promise after validation, and panic otherwise.
type fuzzStore struct {
	mu    sync.Mutex
	convs map[string]eval.Conversation
	turns map[string][]eval.Turn
}

var _ api.Store = (*fuzzStore)(nil)

func newFuzzStore() *fuzzStore {
	return &fuzzStore{convs: map[string]eval.Conversation{}, turns: map[string][]eval.Turn{}}
}

// violated panics: validation let through data it must refuse.
func violated(format string, args ...any) { panic(fmt.Sprintf("invariant violated: "+format, args...)) }

func mustUUID(what, s string) {
	if _, err := uuid.Parse(s); err != nil || len(s) != 36 || s != strings.ToLower(s) {
		violated("%s %q is not a lower-case UUID", what, s)
	}
}

func mustOptUUID(what, s string) {
	if s != "" {
		mustUUID(what, s)
	}
}

func mustOneOf(what, s string, allowed ...string) {
	if !slices.Contains(allowed, s) {
		violated("%s %q is not one of %v", what, s, allowed)
	}
}

func mustText(what, s string, lo, hi int) {
	if n := utf8.RuneCountInString(s); !utf8.ValidString(s) || n < lo || (hi > 0 && n > hi) {
		violated("%s has %d characters (want %d..%d) or invalid UTF-8", what, n, lo, hi)
	}
}

// mustJSON checks that v serializes (no ±Inf, no NaN) within max bytes.
func mustJSON(what string, v any, max int) {
	b, err := json.Marshal(v)
	if err != nil || (max > 0 && len(b) > max) {
		violated("%s does not serialize within %d bytes: %v (%d bytes)", what, max, err, len(b))
	}
}

func mustFinite(what string, x float64, lo, hi float64) {
	if math.IsNaN(x) || math.IsInf(x, 0) || x < lo || x > hi {
		violated("%s = %v, want in [%v, %v]", what, x, lo, hi)
	}
}

func (s *fuzzStore) KeyByHash(_ context.Context, hash string) (eval.APIKey, error) {
	if hash != store.HashKey(fuzzKey) {
		return eval.APIKey{}, eval.ErrUnauthorized
	}
	return eval.APIKey{ID: "k", OrgID: fuzzOrg, Hash: hash}, nil
}

func (s *fuzzStore) GetConversation(_ context.Context, orgID, id string) (eval.Conversation, error) {
	mustUUID("conversation id", id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.convs[id]; ok {
		return c, nil
	}
	return eval.Conversation{}, eval.Errorf(eval.ErrNotFound, "conversation %s not found", id)
}

func (s *fuzzStore) PutConversation(_ context.Context, c eval.Conversation, turns []eval.Turn) (store.PutResult, error) {
	mustUUID("conversation id", c.ID)
	mustUUID("agent_id", c.AgentID)
	mustOptUUID("scenario_id", c.ScenarioID)
	mustOneOf("session_type", c.SessionType, "live", "test", "simulation")
	mustOneOf("status", c.Status, "queued", "ringing", "active", "paused", "waiting_for_human", "transferred",
		"awaiting_approval", "closed", "expired", "error", "superseded")
	mustText("channel", c.Channel, 1, 64)
	if c.Metadata == nil {
		violated("metadata is nil")
	}
	mustJSON("metadata", c.Metadata, 16384)
	if len(turns) > 2000 || c.MessageCount != len(turns) {
		violated("%d turns, message_count %d", len(turns), c.MessageCount)
	}
	for i, t := range turns {
		mustUUID("turn id", t.ID)
		mustOneOf("role", t.Role, "user", "assistant", "tool", "system")
		mustText("content", t.Content, 0, 65536)
		if t.SessionID != c.ID || t.Seq != i {
			violated("turn %d belongs to %s at %d", i, t.SessionID, t.Seq)
		}
		for _, raw := range []json.RawMessage{t.ToolCalls, t.ToolResults} {
			if raw != nil && !json.Valid(raw) {
				violated("turn %d: tool JSON %q is not valid", i, raw)
			}
		}
		if len(t.ToolCalls)+len(t.ToolResults) > 65536 {
			violated("turn %d: tool JSON of %d bytes", i, len(t.ToolCalls)+len(t.ToolResults))
		}
	}
	for _, t := range []*time.Time{c.StartedAt, c.EndedAt} {
		if t != nil && t.Location() != time.UTC {
			violated("time %v is not UTC", t)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, existed := s.convs[c.ID]
	if len(s.convs) > 1000 {
		clear(s.convs)
		clear(s.turns)
	}
	s.convs[c.ID], s.turns[c.ID] = c, turns
	return store.PutResult{Created: !existed}, nil
}

func (s *fuzzStore) DeleteConversation(_ context.Context, orgID, id string, _ time.Time) error {
	mustUUID("conversation id", id)
	return eval.Errorf(eval.ErrNotFound, "conversation %s not found", id)
}

func (s *fuzzStore) Turns(_ context.Context, orgID, id string) ([]eval.Turn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.turns[id], nil
}

func (s *fuzzStore) RecentTurns(ctx context.Context, orgID, id string, n int) ([]eval.Turn, error) {
	t, _ := s.Turns(ctx, orgID, id)
	return t[max(0, len(t)-n):], nil
}

func (s *fuzzStore) VisibleRun(_ context.Context, orgID, runID string) (eval.Run, eval.Conversation, error) {
	mustUUID("run id", runID)
	if runID != fuzzRun {
		return eval.Run{}, eval.Conversation{}, eval.Errorf(eval.ErrNotFound, "eval run %s not found", runID)
	}
	th := 0.5
	c := eval.Conversation{ID: fuzzConv, OrgID: orgID, AgentID: fuzzConv, SessionType: "live", Channel: "chat", Status: "closed",
		Metadata: map[string]any{}, CreatedAt: clock, UpdatedAt: clock}
	return eval.Run{ID: runID, OrgID: orgID, SessionID: fuzzConv, EvaluatorID: fuzzEvaluator, TaskID: fuzzConv, Status: eval.StatusPending,
		Snapshot: eval.Snapshot{Kind: eval.KindRegex, Format: eval.FormatScore, Severity: "low", Threshold: &th}, CreatedAt: clock}, c, nil
}

// cursor stands for the store's cursor check: only fuzzCursor is one.
func cursor(after string) error {
	if after != "" && after != fuzzCursor {
		return store.ErrBadCursor
	}
	return nil
}

func mustLimit(limit int) {
	if limit < 1 || limit > 200 {
		violated("limit %d", limit)
	}
}

func (s *fuzzStore) ListRuns(_ context.Context, orgID string, f store.RunFilter, limit int, after string) ([]eval.Run, string, error) {
	for _, id := range []string{f.SessionID, f.EvaluatorID, f.AgentID, f.TaskID} {
		mustOptUUID("run filter id", id)
	}
	if f.Status != "" {
		mustOneOf("status", f.Status, "pending", "running", "completed", "failed", "errored")
	}
	if f.Scope != "" {
		mustOneOf("scope", f.Scope, "live", "test", "simulation")
	}
	if f.Outcome != "" {
		mustOneOf("outcome", f.Outcome, "passed", "failed", "no_verdict", "errored")
	}
	for _, x := range []*float64{f.ScoreMin, f.ScoreMax} {
		if x != nil {
			mustFinite("score filter", *x, 0, 1)
		}
	}
	mustLimit(limit)
	return nil, "", cursor(after)
}

func (s *fuzzStore) RunsOfGeneration(context.Context, string, string, string) ([]eval.Run, error) {
	return nil, nil
}

func (s *fuzzStore) GetRuns(context.Context, string, []string) (map[string]eval.Run, error) {
	return map[string]eval.Run{}, nil
}

func (s *fuzzStore) GetTask(_ context.Context, orgID, id string) (eval.Task, error) {
	mustUUID("task id", id)
	return eval.Task{}, eval.Errorf(eval.ErrNotFound, "task %s not found", id)
}

func (s *fuzzStore) PutEvaluator(_ context.Context, e eval.Evaluator, create bool) error {
	mustUUID("evaluator id", e.ID)
	mustText("name", e.Name, 1, 200)
	if e.Description != nil {
		mustText("description", *e.Description, 0, 2000)
	}
	mustOneOf("kind", e.Kind, eval.KindModelJudge, eval.KindExpression, eval.KindRegex)
	mustOneOf("format", e.Format, eval.FormatScore, eval.FormatBoolean)
	mustOneOf("severity", e.Severity, "info", "low", "medium", "high", "critical")
	mustOneOf("status", e.Status, eval.EvaluatorActive, eval.EvaluatorArchived)
	mustText("prompt", e.Prompt, 0, 20000)
	mustFinite("threshold", e.Threshold, 0, 1)
	if e.Config == nil {
		violated("config is nil")
	}
	mustJSON("config", e.Config, 32768)
	if e.Kind == eval.KindModelJudge {
		if e.Prompt == "" {
			violated("a model_judge evaluator without a prompt")
		}
		if p, ok := e.Config["provider"]; ok {
			mustOneOf("provider", fmt.Sprint(p), "openai", "anthropic", "bedrock")
		}
		if t, ok := e.Config["temperature"]; ok {
			x, isNum := t.(float64)
			if n, isInt := t.(int64); isInt {
				x, isNum = float64(n), true
			}
			if !isNum {
				violated("temperature %v is not a number", t)
			}
			mustFinite("temperature", x, 0, 2)
		}
		if m, ok := e.Config["max_tokens"]; ok {
			if n, isInt := m.(int64); !isInt || n < 1 || n > 16384 {
				violated("max_tokens %v", m)
			}
		}
		if m, ok := e.Config["model"]; ok {
			s, isStr := m.(string)
			if !isStr {
				violated("model %v is not a string", m)
			}
			mustText("model", s, 1, 200)
		}
	}
	return nil
}

func (s *fuzzStore) GetEvaluator(_ context.Context, orgID, id string) (eval.Evaluator, error) {
	mustUUID("evaluator id", id)
	if id != fuzzEvaluator {
		return eval.Evaluator{}, eval.Errorf(eval.ErrNotFound, "evaluator %s not found", id)
	}
	return eval.Evaluator{ID: id, OrgID: orgID, Name: "fuzz", Kind: eval.KindRegex, Format: eval.FormatBoolean, Severity: "low",
		Threshold: 0.5, Config: map[string]any{"pattern": "a"}, Status: eval.EvaluatorActive, CreatedAt: clock, UpdatedAt: clock}, nil
}

func (s *fuzzStore) ListEvaluators(_ context.Context, orgID, status string, limit int, after string) ([]eval.Evaluator, string, error) {
	if status != "" {
		mustOneOf("status", status, eval.EvaluatorActive, eval.EvaluatorArchived)
	}
	mustLimit(limit)
	return nil, "", cursor(after)
}

func (s *fuzzStore) DeleteEvaluator(_ context.Context, orgID, id string) error {
	mustUUID("evaluator id", id)
	return nil
}

func (s *fuzzStore) CreateBinding(_ context.Context, b eval.Binding) error {
	mustUUID("binding id", b.ID)
	mustUUID("evaluator_id", b.EvaluatorID)
	mustOneOf("scope", b.Scope, eval.ScopeAgent, eval.ScopeScenario)
	mustOptUUID("agent_id", b.AgentID)
	mustOptUUID("scenario_id", b.ScenarioID)
	if (b.Scope == eval.ScopeAgent) != (b.AgentID != "") || (b.Scope == eval.ScopeScenario) != (b.ScenarioID != "") {
		violated("binding scope %s with agent %q and scenario %q", b.Scope, b.AgentID, b.ScenarioID)
	}
	return nil
}

func (s *fuzzStore) fixedBinding(orgID, id string) eval.Binding {
	return eval.Binding{ID: id, OrgID: orgID, EvaluatorID: fuzzEvaluator, Scope: eval.ScopeAgent, AgentID: fuzzConv, CreatedAt: clock}
}

func (s *fuzzStore) GetBinding(_ context.Context, orgID, id string) (eval.Binding, error) {
	mustUUID("binding id", id)
	if id != fuzzBinding {
		return eval.Binding{}, eval.Errorf(eval.ErrNotFound, "evaluator binding %s not found", id)
	}
	return s.fixedBinding(orgID, id), nil
}

func (s *fuzzStore) SetBindingCritical(ctx context.Context, orgID, id string, critical bool) (eval.Binding, error) {
	b, err := s.GetBinding(ctx, orgID, id)
	b.IsCritical = critical
	return b, err
}

func (s *fuzzStore) DeleteBinding(_ context.Context, orgID, id string) error {
	mustUUID("binding id", id)
	return nil
}

func (s *fuzzStore) ListBindings(_ context.Context, orgID string, f store.BindingFilter, limit int, after string) ([]eval.Binding, string, error) {
	for _, id := range []string{f.EvaluatorID, f.AgentID, f.ScenarioID} {
		mustOptUUID("binding filter id", id)
	}
	mustLimit(limit)
	return nil, "", cursor(after)
}

func (s *fuzzStore) GetEvalConfig(_ context.Context, orgID, agentID string) (eval.EvalConfig, error) {
	mustUUID("agent id", agentID)
	return eval.DefaultEvalConfig, nil
}

func (s *fuzzStore) UpdateEvalConfig(_ context.Context, orgID, agentID string, live, test *bool) (eval.EvalConfig, error) {
	mustUUID("agent id", agentID)
	c := eval.DefaultEvalConfig
	if live != nil {
		c.EvaluateLive = *live
	}
	if test != nil {
		c.EvaluateTest = *test
	}
	return c, nil
}

// The fuzz harness must reach the handlers' validation and the store: valid
// requests succeed through it (a harness that answered 401 to everything
// would fuzz nothing).
func TestFuzzHarnessReachesTheStore(t *testing.T) {
	for _, c := range []struct {
		method, target, body string
		want                 int
	}{
		{"PUT", "/v1/v2/conversations/" + fuzzConv, `{"agent_id": "00000000-0000-4000-8000-0000000000a1", "session_type": "live", "channel": "c", "status": "closed", "turns": [{"role": "user", "content": "hi"}]}`, 0},
		{"POST", "/v1/evaluators", `{"name": "n", "prompt": "p", "config": {"temperature": 1, "max_tokens": 10, "model": "m"}}`, 201},
		{"PATCH", "/v1/evaluators/" + fuzzEvaluator, `{"kind": "model_judge", "prompt": "p"}`, 200},
		{"POST", "/v1/evaluator-bindings", `{"evaluator_id": "` + fuzzEvaluator + `", "scope": "agent", "agent_id": "` + fuzzConv + `"}`, 201},
		{"PATCH", "/v1/evaluator-bindings/" + fuzzBinding, `{"is_critical": true}`, 200},
		{"PUT", "/v1/agents/" + fuzzConv + "/eval-config", `{"evaluate_live": false}`, 200},
		{"GET", "/v1/eval-runs?limit=5&cursor=" + fuzzCursor + "&session_id=" + fuzzConv, "", 200},
		{"GET", "/v1/evaluators?status=active", "", 200},
		{"GET", "/v1/evaluator-bindings?agent_id=" + fuzzConv, "", 200},
		{"GET", "/v1/eval-runs/" + fuzzRun + "?include=session,turns", "", 200},
		{"GET", "/v1/evaluators?cursor=other", "", 422},
	} {
		var body []byte
		if c.body != "" {
			body = []byte(c.body)
		}
		rec := fuzzServe(t, c.method, c.target, body)
		if c.want == 0 && (rec.Code == 200 || rec.Code == 201) {
			continue
		}
		if rec.Code != c.want {
			t.Errorf("%s %s = %d %s, want %d", c.method, c.target, rec.Code, rec.Body, c.want)
		}
	}
}
