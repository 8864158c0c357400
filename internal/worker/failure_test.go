package worker_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/plume-evals/plume/internal/eval"
	"github.com/plume-evals/plume/internal/judge/judgetest"
	"github.com/plume-evals/plume/internal/queue"
)

// onlyRun returns the single visible run of a conversation.
func (f *fixture) onlyRun(conv string) eval.Run {
	f.t.Helper()
	rs := f.runs(conv)
	if len(rs) != 1 {
		f.t.Fatalf("runs = %d, want 1", len(rs))
	}
	return rs[0]
}

func TestJudgeFailures(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name       string
		script     []judgetest.Step
		status     string
		attempts   int
		errorHas   string
		wantSleeps []time.Duration // waits the worker took between attempts
	}{
		{"429 honours Retry-After", []judgetest.Step{judgetest.RateLimited("2"), judgetest.Score(0.9, "ok")},
			eval.StatusCompleted, 2, "", []time.Duration{2 * time.Second}},
		{"5xx then success", []judgetest.Step{judgetest.ServerError(), judgetest.Score(0.9, "ok")},
			eval.StatusCompleted, 2, "", nil},
		{"prose-wrapped JSON is retried, then accepted", []judgetest.Step{judgetest.ProseWrapped(judgetest.ScoreVerdict(0.8, "x")), judgetest.Score(0.8, "ok")},
			eval.StatusCompleted, 2, "", nil},
		{"401 ends errored at once", []judgetest.Step{judgetest.Status(401, "invalid_request_error", "Incorrect API key provided")},
			eval.StatusErrored, 1, "401", nil},
		{"404 model ends errored at once", []judgetest.Step{judgetest.Status(404, "invalid_request_error", "The model does not exist")},
			eval.StatusErrored, 1, "404", nil},
		{"malformed output ends failed after every attempt", []judgetest.Step{judgetest.Malformed()},
			eval.StatusFailed, 3, "gave up after 3 attempts", nil},
		{"5xx forever ends errored after every attempt", []judgetest.Step{judgetest.ServerError()},
			eval.StatusErrored, 3, "gave up after 3 attempts", nil},
		{"a hang times out and is retried", []judgetest.Step{judgetest.Hang(), judgetest.Score(0.9, "ok")},
			eval.StatusCompleted, 2, "", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, c.script...)
			f.w.JudgeTimeout = 300 * time.Millisecond
			f.judgeEvaluator(true)
			conv := f.conversation(2)
			f.reevaluate(conv)
			f.drain(3)
			r := f.onlyRun(conv)
			if r.Status != c.status || r.Attempts != c.attempts {
				t.Fatalf("run status %s attempts %d (error %v), want %s after %d", r.Status, r.Attempts, deref(r.ErrorText), c.status, c.attempts)
			}
			if c.errorHas != "" && !strings.Contains(deref(r.ErrorText), c.errorHas) {
				t.Errorf("error_text %q does not name %q", deref(r.ErrorText), c.errorHas)
			}
			if c.status == eval.StatusCompleted && r.ErrorText != nil {
				t.Errorf("completed run keeps error_text %q", *r.ErrorText)
			}
			if c.wantSleeps != nil && !equalDurations(f.sleeps, c.wantSleeps) {
				t.Errorf("waits = %v, want %v", f.sleeps, c.wantSleeps)
			}
			if f.judge.Count() != c.attempts {
				t.Errorf("judge calls = %d, want %d (one retry layer)", f.judge.Count(), c.attempts)
			}
			if g := f.conv(conv).Guard; g.ActiveTask != "" {
				t.Errorf("guard still held: %+v", g)
			}
		})
	}
}

func TestUnusableAnswersArePaidFor(t *testing.T) {
	t.Parallel()
	f := newFixture(t, judgetest.Malformed().WithUsage(100, 10))
	f.judgeEvaluator(false)
	conv := f.conversation(2)
	f.reevaluate(conv)
	f.drain(3)
	r := f.onlyRun(conv)
	if r.Status != eval.StatusFailed || r.InputTokens != 300 || r.OutputTokens != 30 || r.CostUSD <= 0 {
		t.Fatalf("run %s tokens %d/%d cost %v; want failed with 3 × (100/10) tokens and their cost", r.Status, r.InputTokens, r.OutputTokens, r.CostUSD)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLongRetryAfterHandsTheTaskBack(t *testing.T) {
	t.Parallel()
	f := newFixture(t, judgetest.RateLimited("120"), judgetest.Score(0.9, "ok"))
	f.judgeEvaluator(true)
	conv := f.conversation(2)
	task := f.reevaluate(conv)
	resp := f.handle(f.receive(), time.Minute)
	if len(resp.BatchItemFailures) != 1 {
		t.Fatalf("a 120 s Retry-After must hand the message back: %+v", resp)
	}
	r := f.onlyRun(conv)
	if r.Status != eval.StatusRunning || r.Attempts != 1 || !strings.Contains(deref(r.ErrorText), "retrying") {
		t.Fatalf("run after hand-back = %s, %d attempts, %q; want running, progress visible", r.Status, r.Attempts, deref(r.ErrorText))
	}
	// The lease covers the wait, so neither the sweeper nor a reevaluate
	// takes the task over while it legitimately waits.
	g := f.conv(conv).Guard
	if !g.LeaseUntil.After(f.clock().Add(15*time.Minute + time.Minute)) {
		t.Errorf("lease until %s, want past the wait plus a lease", g.LeaseUntil)
	}
	f.drain(3)
	r = f.onlyRun(conv)
	if r.Status != eval.StatusCompleted || r.Attempts != 2 {
		t.Fatalf("after redelivery: %s after %d attempts", r.Status, r.Attempts)
	}
	if tk := f.task(task.ID); tk.Status != eval.TaskCompleted {
		t.Errorf("task = %+v", tk)
	}
}

func TestNearDeadlineStartsNoNewWork(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.judgeEvaluator(false)
	conv := f.conversation(2)
	f.reevaluate(conv)
	// Less than JudgeTimeout + Margin left: plan, but call no judge.
	resp := f.handle(f.receive(), 2*time.Second)
	if len(resp.BatchItemFailures) != 1 {
		t.Fatalf("want the message handed back, got %+v", resp)
	}
	if r := f.onlyRun(conv); r.Status != eval.StatusPending || r.Attempts != 0 {
		t.Fatalf("run = %s/%d, want pending and untouched", r.Status, r.Attempts)
	}
	f.drain(2)
	if r := f.onlyRun(conv); r.Status != eval.StatusCompleted {
		t.Fatalf("after redelivery: %s", r.Status)
	}
}

func TestDeterministicRunsNeedNoJudgeTime(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.regexEvaluator(false)
	conv := f.conversation(2)
	f.reevaluate(conv)
	// 2.5 s left is less than a judge call needs, enough for a regex.
	if resp := f.handle(f.receive(), 2500*time.Millisecond); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("a regex run was handed back: %+v", resp)
	}
	if r := f.onlyRun(conv); r.Status != eval.StatusCompleted {
		t.Fatalf("run = %s", r.Status)
	}
}

func TestBatchReportsExactlyTheFailedMessages(t *testing.T) {
	t.Parallel()
	f := newFixture(t, judgetest.RateLimited("600"))
	f.regexEvaluator(false)
	ok1, ok2 := f.conversation(2), f.conversation(2)
	f.reevaluate(ok1)
	f.reevaluate(ok2)
	// A third conversation of another agent, with a judge that throttles.
	f.agent = "11111111-1111-4111-8111-111111111111"
	f.judgeEvaluator(false)
	slow := f.conversation(2)
	slowTask := f.reevaluate(slow)
	recs := f.receive()
	recs = append(recs, events.SQSMessage{MessageId: "garbage", Body: "{not json", EventSourceARN: f.queueARN})
	if len(recs) != 4 {
		t.Fatalf("messages = %d", len(recs))
	}
	resp := f.handle(recs, time.Minute)
	var failed []string
	for _, fl := range resp.BatchItemFailures {
		failed = append(failed, fl.ItemIdentifier)
	}
	var want []string
	for _, r := range recs {
		if strings.Contains(r.Body, slowTask.ID) {
			want = append(want, r.MessageId)
		}
	}
	if len(failed) != 1 || failed[0] != want[0] {
		t.Fatalf("BatchItemFailures = %v, want exactly %v (malformed messages are dropped, done ones acknowledged)", failed, want)
	}
}

func TestDeadLetterEndsRunsErroredAndReleases(t *testing.T) {
	t.Parallel()
	f := newFixture(t, judgetest.ServerError())
	f.judgeEvaluator(true)
	f.regexEvaluator(false)
	conv := f.conversation(2)
	f.reevaluate(conv)
	recs := f.receive()
	// Make the worker die on the judge run: it stays running.
	f.w.BeforeSave = func(r eval.Run) error {
		if r.Snapshot.Kind == eval.KindModelJudge {
			return context.Canceled
		}
		return nil
	}
	f.handle(recs, time.Minute)
	// The message failed its deliveries and SQS moved it to the DLQ.
	dlq := events.SQSMessage{MessageId: "dlq-1", Body: recs[0].Body, EventSourceARN: f.env.DLQARN,
		Attributes: map[string]string{"ApproximateReceiveCount": "6"}}
	if resp := f.handle([]events.SQSMessage{dlq}, time.Minute); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("DLQ message not acknowledged: %+v", resp)
	}
	st := byStatus(f.runs(conv))
	if st[eval.StatusErrored] != 1 || st[eval.StatusCompleted] != 1 {
		t.Fatalf("runs after DLQ = %v, want the unfinished one errored", st)
	}
	for _, r := range f.runs(conv) {
		if r.Status == eval.StatusErrored && !strings.Contains(deref(r.ErrorText), "dead-letter") {
			t.Errorf("error_text %q does not say why", deref(r.ErrorText))
		}
	}
	c := f.conv(conv)
	if c.Guard.ActiveTask != "" || c.Summary.Status != "failure" {
		t.Fatalf("conversation after DLQ: guard %+v summary %+v", c.Guard, c.Summary)
	}
	// Released: a new reevaluate is accepted at once.
	f.reevaluate(conv)
}

func TestSweeperEndsExpiredLeases(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.regexEvaluator(true)
	conv := f.conversation(2)
	task := f.reevaluate(conv)
	// The worker dies after planning: the run stays pending, the message
	// is lost for good (say it sits in a broken queue).
	f.w.BeforeSave = func(eval.Run) error { return context.Canceled }
	f.handle(f.receive(), time.Minute)
	if _, err := f.svc.Reevaluate(context.Background(), f.org, conv); err == nil {
		t.Fatal("a second reevaluate inside the lease was accepted")
	}
	if n, err := f.w.Sweep(context.Background()); err != nil || n != 0 {
		t.Fatalf("sweep inside the lease: %d, %v; want nothing", n, err)
	}
	f.advance(16 * time.Minute)
	n, err := f.w.Sweep(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("sweep after the lease: %d, %v; want 1", n, err)
	}
	r := f.onlyRun(conv)
	if r.Status != eval.StatusErrored || !strings.Contains(deref(r.ErrorText), "lease expired") {
		t.Fatalf("swept run = %s %q", r.Status, deref(r.ErrorText))
	}
	if tk := f.task(task.ID); tk.Status != eval.TaskCompleted || tk.Errored != 1 {
		t.Errorf("swept task = %+v", tk)
	}
	if g := f.conv(conv).Guard; g.ActiveTask != "" {
		t.Fatalf("guard after sweep = %+v", g)
	}
}

func TestSupersededTaskIsIgnoredAndCannotWrite(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.regexEvaluator(false)
	conv := f.conversation(2)
	old := f.reevaluate(conv)
	oldMsg := f.receive()
	// Nobody processes it; the lease passes and a new reevaluate takes over.
	f.advance(16 * time.Minute)
	newer := f.reevaluate(conv)
	f.handle(oldMsg, time.Minute) // the stale message: acknowledged, ignored
	if tk := f.task(old.ID); tk.Status == eval.TaskCompleted {
		t.Errorf("the superseded task was run")
	}
	if rs := f.runs(conv); len(rs) != 0 {
		t.Fatalf("stale delivery created %d visible runs", len(rs))
	}
	f.drain(2)
	r := f.onlyRun(conv)
	if r.TaskID != newer.ID || r.Status != eval.StatusCompleted {
		t.Fatalf("run = %+v", r)
	}
	// A stale worker's direct write is refused.
	stale := r
	stale.TaskID, stale.Status = old.ID, eval.StatusRunning
	if err := f.st.SaveRun(context.Background(), stale); err == nil {
		t.Fatal("a write by the superseded task was accepted")
	}
}

func TestRetryRerunsOneRunWithItsOwnSnapshot(t *testing.T) {
	t.Parallel()
	f := newFixture(t, judgetest.Status(401, "invalid_request_error", "bad key"), judgetest.Score(0.95, "great"))
	e := f.judgeEvaluator(true)
	f.regexEvaluator(true)
	conv := f.conversation(2)
	f.reevaluate(conv)
	f.drain(2)
	failed := byEvaluator(f.runs(conv))[e.ID]
	if failed.Status != eval.StatusErrored {
		t.Fatalf("setup: judge run %s", failed.Status)
	}
	if f.conv(conv).Summary.Status != "partial" {
		t.Fatalf("setup: summary %+v", f.conv(conv).Summary)
	}
	// Edit the evaluator: a retry must keep the run's own snapshot.
	e.Prompt, e.Threshold = "A different prompt", 0.99
	if err := f.st.PutEvaluator(context.Background(), e, false); err != nil {
		t.Fatal(err)
	}
	task, err := f.svc.Retry(context.Background(), f.org, failed.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := f.st.GetRun(context.Background(), f.org, failed.ID); r.Status != eval.StatusPending {
		t.Fatalf("retried run right after the 202 = %s, want pending", r.Status)
	}
	f.drain(2)
	r, _ := f.st.GetRun(context.Background(), f.org, failed.ID)
	if r.Status != eval.StatusCompleted || r.TaskID != task.ID || r.Snapshot.Prompt != "Grade the agent's helpfulness." || *r.Snapshot.Threshold != 0.7 {
		t.Fatalf("retried run = %s task %s prompt %q threshold %v", r.Status, r.TaskID, r.Snapshot.Prompt, *r.Snapshot.Threshold)
	}
	if !r.Scores[0].Passed {
		t.Errorf("0.95 against the snapshot's 0.7 should pass")
	}
	if s := f.conv(conv).Summary; s.Status != "success" || s.Total != 2 {
		t.Errorf("summary after retry = %+v", s)
	}
	if tk := f.task(task.ID); tk.Kind != eval.TaskRetry || tk.Status != eval.TaskCompleted || tk.Total != 1 || tk.Completed != 1 {
		t.Errorf("retry task = %+v", tk)
	}
	// A completed run is not retryable.
	if _, err := f.svc.Retry(context.Background(), f.org, failed.ID); err == nil || !strings.Contains(err.Error(), "not retryable") {
		t.Errorf("retry of a completed run: %v", err)
	}
}

// A task too long for one invocation continues in fresh messages: none of
// its deliveries fails, so none counts toward the dead-letter queue.
func TestLongTaskContinuesInFreshMessages(t *testing.T) {
	t.Parallel()
	f := newFixture(t, judgetest.Score(0.9, "ok").After(time.Second))
	f.h.Continue = queue.NewSender(f.env.SQS, f.env.QueueURL)
	f.w.Concurrency, f.w.JudgeTimeout, f.w.Margin = 1, 2*time.Second, 500*time.Millisecond
	const runs = 4
	for range runs {
		f.judgeEvaluator(false)
	}
	conv := f.conversation(2)
	task := f.reevaluate(conv)
	deliveries := 0
	for deliveries < 10 {
		recs := f.receive()
		if len(recs) == 0 {
			if f.task(task.ID).Status == eval.TaskCompleted {
				break
			}
			time.Sleep(200 * time.Millisecond) // a continuation's DelaySeconds
			continue
		}
		deliveries++
		if n := recs[0].Attributes["ApproximateReceiveCount"]; n != "1" {
			t.Fatalf("delivery %d: receive count %s, want every message delivered once", deliveries, n)
		}
		// 5 s: a judge call starts only with 2.5 s left, so at most three
		// of the 1 s calls fit in one delivery.
		if resp := f.handle(recs, 5*time.Second); len(resp.BatchItemFailures) != 0 {
			t.Fatalf("delivery %d reported a failure: %+v", deliveries, resp)
		}
	}
	if deliveries < 2 {
		t.Fatalf("deliveries = %d: the task fitted in one invocation, the test proves nothing", deliveries)
	}
	if st := byStatus(f.runs(conv)); st[eval.StatusCompleted] != runs {
		t.Fatalf("runs = %v", st)
	}
}
