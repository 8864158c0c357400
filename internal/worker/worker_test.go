package worker_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/plume-evals/plume/internal/eval"
	"github.com/plume-evals/plume/internal/judge/judgetest"
)

func TestReevaluateRunsEveryBoundEvaluator(t *testing.T) {
	t.Parallel()
	f := newFixture(t, judgetest.Score(0.9, "helpful and polite").WithUsage(1200, 80))
	j := f.judgeEvaluator(true)
	rx := f.regexEvaluator(false)
	ex := f.bind(eval.KindExpression, eval.FormatScore, map[string]any{"expression": "conversation.turns.size() > 10"}, true)
	conv := f.conversation(4)
	task := f.reevaluate(conv)
	f.drain(3)

	runs := byEvaluator(f.runs(conv))
	if len(runs) != 3 {
		t.Fatalf("runs = %d, want 3", len(runs))
	}
	jr := runs[j.ID]
	if jr.Status != eval.StatusCompleted || len(jr.Scores) != 1 || jr.Scores[0].Value != 0.9 || !jr.Scores[0].Passed {
		t.Errorf("judge run = %+v", jr)
	}
	if jr.InputTokens != 1200 || jr.OutputTokens != 80 || jr.CostUSD <= 0 || jr.Attempts != 1 || jr.StartedAt == nil || jr.FinishedAt == nil {
		t.Errorf("judge run accounting: tokens %d/%d cost %v attempts %d", jr.InputTokens, jr.OutputTokens, jr.CostUSD, jr.Attempts)
	}
	if want := 1200*0.15/1e6 + 80*0.60/1e6; jr.CostUSD < want*0.999 || jr.CostUSD > want*1.001 {
		t.Errorf("cost = %v, want %v (gpt-4o-mini list price)", jr.CostUSD, want)
	}
	if r := runs[rx.ID]; r.Status != eval.StatusCompleted || !r.Scores[0].Passed || r.CostUSD != 0 {
		t.Errorf("regex run = %+v", r)
	}
	er := runs[ex.ID]
	if er.Status != eval.StatusCompleted || er.Scores[0].Passed || !er.Scores[0].Blocking {
		t.Errorf("expression run (4 turns, critical) should fail and block: %+v", er)
	}
	// The verdict: 2 critical runs, one passed → partial; guard released.
	c := f.conv(conv)
	want := eval.Summary{Total: 3, Succeeded: 2, Failed: 1, CriticalTotal: 2, CriticalSucceeded: 1, CriticalFailed: 1, Status: "partial"}
	if diff := cmp.Diff(want, c.Summary); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	if c.Guard.ActiveTask != "" || c.Guard.Generation != task.ID {
		t.Errorf("guard = %+v, want released at generation %s", c.Guard, task.ID)
	}
	tk := f.task(task.ID)
	if tk.Status != eval.TaskCompleted || tk.Total != 3 || tk.Completed != 3 || tk.FinishedAt == nil {
		t.Errorf("task = %+v", tk)
	}
	// The judge saw the transcript behind its boundary and temperature 0.
	reqs := f.judge.Requests()
	if len(reqs) != 1 {
		t.Fatalf("judge calls = %d, want 1", len(reqs))
	}
	if turns, err := reqs[0].Turns(); err != nil || len(turns) != 4 {
		t.Errorf("judge transcript: %d turns, %v", len(turns), err)
	}
	if reqs[0].Temperature == nil || *reqs[0].Temperature != 0 {
		t.Errorf("judge temperature = %v, want 0", reqs[0].Temperature)
	}
}

func TestZeroBoundEvaluatorsCompletesWithZeroRuns(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	conv := f.conversation(2)
	task := f.reevaluate(conv)
	f.drain(2)
	if tk := f.task(task.ID); tk.Status != eval.TaskCompleted || tk.Total != 0 {
		t.Fatalf("task = %+v, want completed with 0 runs", tk)
	}
	c := f.conv(conv)
	if c.Guard.ActiveTask != "" || c.Summary.Status != "none" || c.Summary.Total != 0 {
		t.Fatalf("conversation = %+v", c)
	}
}

func TestReevaluateWipesTheOldGeneration(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.regexEvaluator(false)
	conv := f.conversation(2)
	first := f.reevaluate(conv)
	f.drain(2)
	old := f.runs(conv)
	// A fresh snapshot: the evaluator bound now, edited.
	e2 := f.bind(eval.KindRegex, eval.FormatBoolean, map[string]any{"pattern": "turn", "must_match": true}, true)
	second := f.reevaluate(conv)
	if got := f.runs(conv); len(got) != 0 {
		t.Fatalf("right after the 202, visible runs = %d, want 0 (the old generation is hidden)", len(got))
	}
	f.drain(2)
	runs := f.runs(conv)
	if len(runs) != 2 {
		t.Fatalf("runs after the second reevaluate = %d, want 2", len(runs))
	}
	for _, r := range runs {
		if r.Generation != second.ID || r.TaskID != second.ID {
			t.Errorf("run %s of generation %s, want %s", r.ID, r.Generation, second.ID)
		}
	}
	if byEvaluator(runs)[e2.ID].Status != eval.StatusCompleted {
		t.Errorf("newly bound evaluator did not run")
	}
	// The old runs are deleted, not only hidden.
	for _, r := range old {
		if _, err := f.st.GetRun(context.Background(), f.org, r.ID); !errors.Is(err, eval.ErrNotFound) {
			t.Errorf("old run %s of %s still stored: %v", r.ID, first.ID, err)
		}
	}
}

func TestDuplicateDeliveryNeverDuplicates(t *testing.T) {
	t.Parallel()
	f := newFixture(t, judgetest.Score(0.8, "ok"))
	f.judgeEvaluator(true)
	f.regexEvaluator(true)
	conv := f.conversation(2)
	f.reevaluate(conv)
	recs := f.receive()
	if len(recs) != 1 {
		t.Fatalf("messages = %d", len(recs))
	}
	// Every message twice at once, then once more after the end.
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); f.handle(recs, time.Minute) }()
	}
	wg.Wait()
	f.handle(recs, time.Minute)
	f.drain(3)
	runs := f.runs(conv)
	if len(runs) != 2 {
		t.Fatalf("runs = %d, want 2", len(runs))
	}
	ids := map[string]bool{}
	for _, r := range runs {
		if r.Status != eval.StatusCompleted || len(r.Scores) != 1 {
			t.Errorf("run %+v", r)
		}
		for _, s := range r.Scores {
			if ids[s.ID] {
				t.Errorf("duplicate score id %s", s.ID)
			}
			ids[s.ID] = true
			if s.ID != eval.ScoreID(r.ID, r.EvaluatorID, 0) {
				t.Errorf("score id %s is not deterministic", s.ID)
			}
		}
	}
	if c := f.conv(conv); c.Summary.Total != 2 || c.Guard.ActiveTask != "" {
		t.Errorf("conversation after duplicates = %+v", c)
	}
}

// endState is what a user can see of a finished conversation.
type endState struct {
	Summary eval.Summary
	Runs    map[string]runState
}

type runState struct {
	Status string
	Values []float64
	Passed []bool
	IDs    []string
}

func (f *fixture) endState(conv string) endState {
	s := endState{Summary: f.conv(conv).Summary, Runs: map[string]runState{}}
	for _, r := range f.runs(conv) {
		var rs runState
		rs.Status = r.Status
		for _, sc := range r.Scores {
			rs.Values, rs.Passed, rs.IDs = append(rs.Values, sc.Value), append(rs.Passed, sc.Passed), append(rs.IDs, sc.ID)
		}
		s.Runs[r.ID] = rs
	}
	return s
}

func TestCrashBetweenJudgeAndWriteRecovers(t *testing.T) {
	t.Parallel()
	f := newFixture(t, judgetest.Score(0.75, "fine"))
	f.judgeEvaluator(true)
	f.regexEvaluator(false)
	conv := f.conversation(2)
	f.reevaluate(conv)
	crashed := 0
	f.w.BeforeSave = func(r eval.Run) error {
		if r.Snapshot.Kind == eval.KindModelJudge && crashed == 0 {
			crashed++
			return errors.New("lambda killed between the judge's answer and the write")
		}
		return nil
	}
	recs := f.receive()
	resp := f.handle(recs, time.Minute)
	if len(resp.BatchItemFailures) != 1 {
		t.Fatalf("the crashed delivery must come back: %+v", resp)
	}
	if st := byStatus(f.runs(conv)); st[eval.StatusRunning] != 1 {
		t.Fatalf("after the crash: %v, want the judge run still running", st)
	}
	f.drain(3)
	got := f.endState(conv)

	// A clean run of the same setup, in a fresh fixture, as the reference.
	g := newFixture(t, judgetest.Score(0.75, "fine"))
	g.org, g.agent = f.org, f.agent
	g.judgeEvaluator(true)
	g.regexEvaluator(false)
	conv2 := g.conversation(2)
	g.reevaluate(conv2)
	g.drain(3)
	want := g.endState(conv2)
	// Run and score ids differ between fixtures; compare the shape.
	if diff := cmp.Diff(want.Summary, got.Summary); diff != "" {
		t.Errorf("summary after crash+redelivery (-clean +crashed):\n%s", diff)
	}
	if diff := cmp.Diff(shape(want), shape(got), cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("runs after crash+redelivery (-clean +crashed):\n%s", diff)
	}
}

// shape renders runs without their ids, which differ between fixtures.
func shape(s endState) []string {
	var out []string
	for _, r := range s.Runs {
		out = append(out, fmt.Sprintf("%s %v %v", r.Status, r.Values, r.Passed))
	}
	return out
}

func byStatus(rs []eval.Run) map[string]int {
	m := map[string]int{}
	for _, r := range rs {
		m[r.Status]++
	}
	return m
}

// An earlier delivery fixed the plan; the evaluator was deleted before its
// run was created: the run is created errored, under its evaluator's id.
func TestEvaluatorDeletedAfterThePlan(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	gone := f.regexEvaluator(false)
	kept := f.regexEvaluator(true)
	conv := f.conversation(2)
	task := f.reevaluate(conv)
	ids := []string{eval.RunID(task.Generation, gone.ID), eval.RunID(task.Generation, kept.ID)}
	if _, err := f.st.PlanTask(context.Background(), task, ids, []string{gone.ID, kept.ID}); err != nil {
		t.Fatal(err)
	}
	if err := f.st.DeleteEvaluator(context.Background(), f.org, gone.ID); err != nil {
		t.Fatal(err)
	}
	f.drain(3)
	runs := byEvaluator(f.runs(conv))
	if r := runs[gone.ID]; r.Status != eval.StatusErrored || r.ID != ids[0] || !strings.Contains(deref(r.ErrorText), "deleted") {
		t.Errorf("run of the deleted evaluator = %+v", r)
	}
	if r := runs[kept.ID]; r.Status != eval.StatusCompleted || !r.Snapshot.IsCritical {
		t.Errorf("run of the kept evaluator = %+v", r)
	}
	if tk := f.task(task.ID); tk.Status != eval.TaskCompleted || tk.Total != 2 || tk.Errored != 1 {
		t.Errorf("task = %+v", tk)
	}
}
