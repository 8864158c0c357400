package api_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/plume-evals/plume/internal/api"
	"github.com/plume-evals/plume/internal/eval"
	"github.com/plume-evals/plume/internal/scorer"
)

// brokenTasks fails with an error of no known kind, carrying internal
// detail that must never reach the client.
type brokenTasks struct{}

func (brokenTasks) Reevaluate(context.Context, string, string) (eval.Task, error) {
	return eval.Task{}, errors.New("dynamodb: table plume-prod-xyz: SerializationException at 10.0.3.7")
}
func (brokenTasks) Retry(context.Context, string, string) (eval.Task, error) {
	return eval.Task{}, errors.New("boom")
}

func TestInternalErrorHidesDetail(t *testing.T) {
	t.Parallel()
	a := &api.API{Store: stubKeys{key: eval.APIKey{OrgID: uuid.NewString()}}, Tasks: brokenTasks{}, Now: time.Now,
		NewID: uuid.NewString, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), KeyTTL: time.Minute}
	req := httptest.NewRequest("POST", "/v1/v2/conversations/"+fixedConv+"/reevaluate", nil)
	req.Header.Set("x-api-key", "k")
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, req)
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "dynamodb") || strings.Contains(rec.Body.String(), "10.0.3.7") {
		t.Fatalf("500 body leaks detail: %d %s", rec.Code, rec.Body)
	}
	golden(t, "internal-error-500", rec.Body.Bytes())
}

func TestErrorBodies(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.api.Check = scorer.Check
	huge := `{"agent_id":"` + uuid.NewString() + `","turns":[{"role":"user","content":"` + strings.Repeat("x", 1<<20) + `"}]}`
	for _, c := range []struct {
		name, method, path string
		body               any
		want               int
	}{
		{"payload-too-large-413", "PUT", "/v1/v2/conversations/" + fixedConv, huge, 413},
		{"bad-regex-400", "POST", "/v1/evaluators", map[string]any{"name": "r", "kind": "regex", "config": map[string]any{"pattern": "(unclosed"}}, 400},
		{"json-invalid-422", "POST", "/v1/evaluators", `{"name": "r",}`, 422},
		{"missing-field-422", "POST", "/v1/evaluators", map[string]any{"kind": "regex"}, 422},
		{"enum-422", "POST", "/v1/evaluators", map[string]any{"name": "r", "kind": "telepathy"}, 422},
		{"binding-scope-mismatch-422", "POST", "/v1/evaluator-bindings", map[string]any{"evaluator_id": fixedConv, "scope": "agent", "scenario_id": fixedConv}, 422},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, body := f.do(c.method, c.path, c.body)
			if code != c.want {
				t.Fatalf("%s %s = %d %s, want %d", c.method, c.path, code, body, c.want)
			}
			golden(t, c.name, body)
		})
	}
}

func TestDeleteConversationRemovesRunsAndScores(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	conv := f.conversation(uuid.NewString(), "active", 2)
	ctx := context.Background()
	c, _ := f.store.GetConversation(ctx, f.org, conv)
	task, err := f.svc.Reevaluate(ctx, f.org, conv)
	if err != nil {
		t.Fatal(err)
	}
	_ = c
	r := eval.Run{ID: uuid.NewString(), OrgID: f.org, SessionID: conv, TaskID: task.ID, Generation: task.ID,
		Status: eval.StatusPending, CreatedAt: f.now}
	if err := f.store.CreateRuns(ctx, task, []eval.Run{r}); err != nil {
		t.Fatal(err)
	}
	if code, _ := f.do("DELETE", "/v1/v2/conversations/"+conv, nil); code != 409 {
		t.Fatalf("delete while evaluating = %d, want 409", code)
	}
	r.Status, r.Scores = eval.StatusCompleted, []eval.Score{{ID: eval.ScoreID(r.ID, "e", 0), Value: 1, Passed: true}}
	if err := f.store.SaveRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Finish(ctx, task, eval.Summarize([]eval.Run{r}), f.now); err != nil {
		t.Fatal(err)
	}
	if code, body := f.do("GET", "/v1/eval-runs/"+r.ID, nil); code != 200 {
		t.Fatalf("run before delete: %d %s", code, body)
	}
	if code, body := f.do("DELETE", "/v1/v2/conversations/"+conv, nil); code != 204 || len(body) != 0 {
		t.Fatalf("delete = %d %q, want 204 and no body", code, body)
	}
	for _, path := range []string{"/v1/v2/conversations/" + conv, "/v1/eval-runs/" + r.ID} {
		if code, _ := f.do("GET", path, nil); code != 404 {
			t.Errorf("GET %s after delete = %d, want 404", path, code)
		}
	}
	if _, err := f.store.GetRun(ctx, f.org, r.ID); !errors.Is(err, eval.ErrNotFound) {
		t.Errorf("the run (and its scores) are still stored: %v", err)
	}
}

func TestPaginationIsStableUnderConcurrentWrites(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	create := func(name string) string {
		f.now = f.now.Add(time.Second)
		code, body := f.do("POST", "/v1/evaluators", map[string]any{"name": name, "kind": "regex", "config": map[string]any{"pattern": "x"}})
		if code != 201 {
			t.Fatalf("create: %d %s", code, body)
		}
		return decode[map[string]any](t, body)["id"].(string)
	}
	var all []string
	for i := range 7 {
		all = append([]string{create("e" + string(rune('0'+i)))}, all...) // newest first
	}
	seen := []string{}
	cursor := ""
	for page := 0; ; page++ {
		path := "/v1/evaluators?limit=3"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		code, body := f.do("GET", path, nil)
		if code != 200 {
			t.Fatalf("page %d: %d %s", page, code, body)
		}
		p := decode[struct {
			Items      []map[string]any `json:"items"`
			HasMore    bool             `json:"has_more"`
			NextCursor *string          `json:"next_cursor"`
		}](t, body)
		for _, it := range p.Items {
			seen = append(seen, it["id"].(string))
		}
		// Writes between pages: new items land before the first page and
		// never shift the pages that follow.
		create("late")
		if !p.HasMore {
			break
		}
		cursor = *p.NextCursor
	}
	if strings.Join(seen, ",") != strings.Join(all, ",") {
		t.Fatalf("pages gave %d items %v, want exactly the 7 that existed, newest first, once each", len(seen), seen)
	}
}

// A transcript of almost 1 MiB (more than twice DynamoDB's 400 KB item
// limit) is accepted and read back whole.
func TestTranscriptLargerThanAnItem(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	turn := strings.Repeat("é", 30000) // 60 KB of UTF-8
	turns := make([]map[string]any, 15)
	for i := range turns {
		turns[i] = map[string]any{"role": "user", "content": turn}
	}
	conv := uuid.NewString()
	code, body := f.do("PUT", "/v1/v2/conversations/"+conv, map[string]any{
		"agent_id": uuid.NewString(), "session_type": "live", "channel": "chat", "status": "active", "turns": turns,
	})
	if code != 201 {
		t.Fatalf("PUT of a %d-turn, ~900 KB transcript = %d %.200s", len(turns), code, body)
	}
	got := decode[map[string]any](t, body)
	if got["message_count"] != 15.0 || len(got["recent_turns"].([]any)) != 15 {
		t.Fatalf("message_count %v, recent_turns %d", got["message_count"], len(got["recent_turns"].([]any)))
	}
	if c := got["recent_turns"].([]any)[14].(map[string]any)["content"]; c != turn {
		t.Fatalf("the last turn came back altered (%d bytes)", len(c.(string)))
	}
}
