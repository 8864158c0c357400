package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/plume-evals/plume/internal/eval"
	"github.com/plume-evals/plume/internal/queue"
)

const fixedConv = "5f0c7c3e-8d1a-4b2f-9e6d-1a2b3c4d5e6f"

func TestReevaluateAcceptsThenConflicts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	conv := f.conversationID(fixedConv, uuid.NewString(), "active", 4)
	if code, body := f.do("POST", "/v1/v2/conversations/"+conv+"/reevaluate", nil); code != 202 {
		t.Fatalf("first reevaluate: %d %s", code, body)
	}
	// The first call took the guard; the legacy alias sees the same state
	// and is refused.
	code, body := f.do("POST", "/v1/sessions/"+conv+"/reevaluate", nil)
	if code != 409 {
		t.Fatalf("legacy alias while in progress: %d %s", code, body)
	}
	golden(t, "reevaluate-409", body)
	if got := f.sender.calls.Load(); got != 1 {
		t.Errorf("SendMessage calls = %d, want 1", got)
	}
}

func TestReevaluate202Body(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	conv := f.conversation(uuid.NewString(), "active", 2)
	code, body := f.do("POST", "/v1/sessions/"+conv+"/reevaluate", nil)
	if code != 202 {
		t.Fatalf("reevaluate: %d %s", code, body)
	}
	got := decode[map[string]string](t, body)
	if got["status"] != "queued" || uuid.Validate(got["task_id"]) != nil || len(got) != 2 {
		t.Fatalf("202 body = %s", body)
	}
	// Exactly one message, naming the task.
	out, err := f.env.SQS.ReceiveMessage(context.Background(), receive(f.env.QueueURL))
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("receive: %v, %d messages", err, len(out.Messages))
	}
	m, err := queue.Decode(*out.Messages[0].Body)
	if err != nil || m.TaskID != got["task_id"] || m.SessionID != conv || m.OrgID != f.org || m.Kind != "reevaluate" {
		t.Fatalf("message %+v, %v", m, err)
	}
	// The task is readable and queued.
	code, body = f.do("GET", "/v1/eval-tasks/"+got["task_id"], nil)
	if code != 200 || !strings.Contains(string(body), `"status":"queued"`) {
		t.Fatalf("task: %d %s", code, body)
	}
}

func TestReevaluateErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	conv := f.conversationID(fixedConv, uuid.NewString(), "active", 1)
	other := "key-other-" + uuid.NewString()
	otherOrg := uuid.NewString()
	f.addKey(otherOrg, other)
	for _, c := range []struct {
		name, key, method, path string
		want                    int
	}{
		{"missing-key", "", "POST", "/v1/v2/conversations/" + conv + "/reevaluate", 401},
		{"unknown-key", "nope", "POST", "/v1/v2/conversations/" + conv + "/reevaluate", 401},
		{"bad-uuid", f.key, "POST", "/v1/v2/conversations/not-a-uuid/reevaluate", 422},
		{"bad-uuid-legacy", f.key, "POST", "/v1/sessions/123/reevaluate", 422},
		{"unknown-conversation", f.key, "POST", "/v1/v2/conversations/00000000-0000-4000-8000-00000000dead/reevaluate", 404},
		{"other-org", other, "POST", "/v1/v2/conversations/" + conv + "/reevaluate", 404},
		{"wrong-method", f.key, "GET", "/v1/v2/conversations/" + conv + "/reevaluate", 405},
		{"unknown-route", f.key, "POST", "/v1/v2/nothing", 404},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, body := f.doKey(c.key, c.method, c.path, nil)
			if code != c.want {
				t.Fatalf("%s %s = %d %s, want %d", c.method, c.path, code, body, c.want)
			}
			golden(t, "reevaluate-"+c.name, body)
		})
	}
}

func TestSendFailureReleasesTheGuard(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	conv := f.conversation(uuid.NewString(), "active", 1)
	// A first evaluation that completes leaves generation g1 with its runs.
	f.sender.fail.Store(true)
	code, body := f.do("POST", "/v1/v2/conversations/"+conv+"/reevaluate", nil)
	if code != 503 {
		t.Fatalf("reevaluate with SQS down: %d %s", code, body)
	}
	golden(t, "reevaluate-503", body)
	c, err := f.store.GetConversation(context.Background(), f.org, conv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Guard.ActiveTask != "" || c.Guard.Generation != "" {
		t.Fatalf("guard after a failed send = %+v, want free and the previous generation", c.Guard)
	}
	// Nothing is locked: the next call succeeds once SQS is back.
	f.sender.fail.Store(false)
	if code, body := f.do("POST", "/v1/v2/conversations/"+conv+"/reevaluate", nil); code != 202 {
		t.Fatalf("reevaluate after SQS recovered: %d %s", code, body)
	}
}

func TestExpiredLeaseIsTakenOver(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	conv := f.conversation(uuid.NewString(), "active", 1)
	if code, body := f.do("POST", "/v1/v2/conversations/"+conv+"/reevaluate", nil); code != 202 {
		t.Fatalf("first: %d %s", code, body)
	}
	f.now = f.now.Add(14 * time.Minute)
	if code, _ := f.do("POST", "/v1/v2/conversations/"+conv+"/reevaluate", nil); code != 409 {
		t.Fatalf("inside the lease: %d, want 409", code)
	}
	f.now = f.now.Add(2 * time.Minute) // the 15-minute lease has passed
	code, body := f.do("POST", "/v1/v2/conversations/"+conv+"/reevaluate", nil)
	if code != 202 {
		t.Fatalf("after the lease: %d %s, want 202", code, body)
	}
	task := decode[map[string]string](t, body)["task_id"]
	c, _ := f.store.GetConversation(context.Background(), f.org, conv)
	if c.Guard.ActiveTask != task || c.Guard.Generation != task {
		t.Fatalf("guard = %+v, want held by %s", c.Guard, task)
	}
}

func TestRetrySendFailureRestoresTheRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	agent := uuid.NewString()
	code, body := f.do("POST", "/v1/evaluators", map[string]any{"name": "judge", "kind": "model_judge", "prompt": "Grade it.",
		"config": map[string]any{"provider": "anthropic"}})
	if code != 201 {
		t.Fatalf("evaluator: %d %s", code, body)
	}
	ev := decode[map[string]any](t, body)["id"].(string)
	if code, body := f.do("POST", "/v1/evaluator-bindings", map[string]any{"evaluator_id": ev, "scope": "agent", "agent_id": agent}); code != 201 {
		t.Fatalf("binding: %d %s", code, body)
	}
	conv := f.conversation(agent, "active", 2)
	code, body = f.do("POST", "/v1/v2/conversations/"+conv+"/reevaluate", nil)
	if code != 202 {
		t.Fatalf("reevaluate: %d %s", code, body)
	}
	f.runTaskNoJudge(decode[map[string]string](t, body)["task_id"], conv) // no provider configured: errored
	code, body = f.do("GET", "/v1/eval-runs?session_id="+conv, nil)
	runs := decode[struct{ Items []map[string]any }](t, body).Items
	if code != 200 || len(runs) != 1 || runs[0]["status"] != "errored" {
		t.Fatalf("setup: %d %s", code, body)
	}
	run := runs[0]["id"].(string)

	f.sender.fail.Store(true)
	if code, body := f.do("POST", "/v1/eval-runs/"+run+"/retry", nil); code != 503 {
		t.Fatalf("retry with SQS down = %d %s, want 503", code, body)
	}
	// Nothing changed: the run is errored under its first task, nothing is locked.
	code, body = f.do("GET", "/v1/eval-runs/"+run, nil)
	got := decode[map[string]any](t, body)
	if code != 200 || got["status"] != "errored" || got["task_id"] != runs[0]["task_id"] {
		t.Fatalf("run after a failed retry: %d %s", code, body)
	}
	f.sender.fail.Store(false)
	if code, body := f.do("POST", "/v1/eval-runs/"+run+"/retry", nil); code != 202 {
		t.Fatalf("retry after SQS recovered = %d %s", code, body)
	}
	if code, _ := f.do("POST", "/v1/eval-runs/"+run+"/retry", nil); code != 409 {
		t.Fatalf("second retry while the first is queued = %d, want 409", code)
	}
}

// While a task holds the guard, eval_summary counts its planned runs that
// are not created yet as pending and shows no verdict.
func TestSummaryWhileRunsAreStillBeingCreated(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	conv := f.conversation(uuid.NewString(), "active", 2)
	code, body := f.do("POST", "/v1/v2/conversations/"+conv+"/reevaluate", nil)
	if code != 202 {
		t.Fatalf("reevaluate: %d %s", code, body)
	}
	task, err := f.store.GetTask(ctx, f.org, decode[map[string]string](t, body)["task_id"])
	if err != nil {
		t.Fatal(err)
	}
	e1, e2 := uuid.NewString(), uuid.NewString()
	ids := []string{eval.RunID(task.Generation, e1), eval.RunID(task.Generation, e2)}
	if task, err = f.store.PlanTask(ctx, task, ids, []string{e1, e2}); err != nil {
		t.Fatal(err)
	}
	done := eval.Run{ID: ids[0], OrgID: f.org, SessionID: conv, EvaluatorID: e1, TaskID: task.ID, Generation: task.Generation,
		Status: eval.StatusCompleted, CreatedAt: f.now, Snapshot: eval.Snapshot{IsCritical: true},
		Scores: []eval.Score{{ID: eval.ScoreID(ids[0], e1, 0), Value: 1, Passed: true}}}
	if err := f.store.CreateRuns(ctx, task, []eval.Run{done}); err != nil {
		t.Fatal(err)
	}
	code, body = f.do("GET", "/v1/v2/conversations/"+conv, nil)
	sum := decode[map[string]any](t, body)["eval_summary"].(map[string]any)
	if code != 200 || sum["eval_status"] != "pending" || sum["total"] != 2.0 || sum["pending"] != 1.0 || sum["succeeded"] != 1.0 {
		t.Fatalf("summary with one of two planned runs created = %d %v, want pending, total 2, pending 1", code, sum)
	}
}
