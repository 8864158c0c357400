package eval

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func score(passed bool) Score { return Score{Passed: passed} }

func run(status string, critical bool, scores ...Score) Run {
	return Run{Status: status, Scores: scores, Snapshot: Snapshot{IsCritical: critical}}
}

func TestOutcome(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		run  Run
		want string
	}{
		{"pending", run(StatusPending, false), ""},
		{"running", run(StatusRunning, false), ""},
		{"completed, all passed", run(StatusCompleted, false, score(true), score(true)), OutcomePassed},
		{"completed, one failed", run(StatusCompleted, false, score(true), score(false)), OutcomeFailed},
		{"completed, no score", run(StatusCompleted, false), OutcomeNoVerdict},
		{"failed", run(StatusFailed, false), OutcomeErrored},
		{"errored", run(StatusErrored, false), OutcomeErrored},
	} {
		if got := Outcome(c.run); got != c.want {
			t.Errorf("%s: Outcome = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	ok, bad := run(StatusCompleted, true, score(true)), run(StatusCompleted, true, score(false))
	for _, c := range []struct {
		name string
		runs []Run
		want Summary
	}{
		{"no runs", nil, Summary{Status: "none"}},
		{"no critical runs", []Run{run(StatusCompleted, false, score(false))}, Summary{Total: 1, Failed: 1, Status: "none"}},
		{"all critical succeeded", []Run{ok, ok, run(StatusErrored, false)},
			Summary{Total: 3, Succeeded: 2, Failed: 1, CriticalTotal: 2, CriticalSucceeded: 2, Status: "success"}},
		{"none succeeded", []Run{bad, run(StatusErrored, true)},
			Summary{Total: 2, Failed: 2, CriticalTotal: 2, CriticalFailed: 2, Status: "failure"}},
		{"partial", []Run{ok, bad}, Summary{Total: 2, Succeeded: 1, Failed: 1, CriticalTotal: 2, CriticalSucceeded: 1, CriticalFailed: 1, Status: "partial"}},
		{"critical in flight", []Run{ok, run(StatusRunning, true)},
			Summary{Total: 2, Succeeded: 1, Pending: 1, CriticalTotal: 2, CriticalSucceeded: 1, CriticalPending: 1, Status: "pending"}},
		{"no verdict counts as failed", []Run{run(StatusCompleted, true)},
			Summary{Total: 1, Failed: 1, CriticalTotal: 1, CriticalFailed: 1, Status: "failure"}},
	} {
		if diff := cmp.Diff(c.want, Summarize(c.runs)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}
}

func TestPassed(t *testing.T) {
	t.Parallel()
	th := func(v float64) *float64 { return &v }
	for _, c := range []struct {
		format    string
		threshold *float64
		value     float64
		want      bool
	}{
		{FormatScore, th(0.7), 0.7, true}, // reaching the threshold passes
		{FormatScore, th(0.7), 0.69, false},
		{FormatScore, nil, 0.5, true},
		{FormatBoolean, th(0.9), 1, true}, // the threshold is for scores only
		{FormatBoolean, th(0.1), 0, false},
	} {
		if got := Passed(c.format, c.threshold, c.value); got != c.want {
			t.Errorf("Passed(%s, %v, %v) = %v, want %v", c.format, c.threshold, c.value, got, c.want)
		}
	}
}

func TestDeterministicIDs(t *testing.T) {
	t.Parallel()
	g, e := "7d9f3c1e-2b4a-4c8e-9f1a-0b2c3d4e5f60", "1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b"
	r, again := RunID(g, e), RunID(g, e)
	if r != again || r == RunID(e, g) {
		t.Error("RunID is not a function of (generation, evaluator)")
	}
	s0, s0again := ScoreID(r, e, 0), ScoreID(r, e, 0)
	if s0 != s0again || s0 == ScoreID(r, e, 1) {
		t.Error("ScoreID is not a function of (run, evaluator, index)")
	}
	if !ValidUUID(r) || !ValidUUID(ScoreID(r, e, 0)) || !ValidUUID(TurnID(g, 3)) {
		t.Error("deterministic ids are not UUIDs")
	}
}

func TestGuardBusyAndEvalConfig(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	if (Guard{}).Busy(now) {
		t.Error("a free guard is busy")
	}
	if !(Guard{ActiveTask: "t", LeaseUntil: now.Add(time.Second)}).Busy(now) {
		t.Error("a held guard within its lease is not busy")
	}
	if (Guard{ActiveTask: "t", LeaseUntil: now}).Busy(now) {
		t.Error("a guard whose lease ended still blocks")
	}
	c := EvalConfig{EvaluateLive: false, EvaluateTest: true}
	if c.Allows(SessionLive) || !c.Allows(SessionTest) || !c.Allows(SessionSimulation) {
		t.Errorf("Allows: live %v test %v simulation %v", c.Allows(SessionLive), c.Allows(SessionTest), c.Allows(SessionSimulation))
	}
}
