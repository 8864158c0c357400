package main

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
)

var taskLineRE = regexp.MustCompile(`^task ([0-9a-f-]{36}) queued\n`)

func TestReevaluate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	conv := f.conversation(uuid.NewString(), "Yes: our refund policy gives you 30 days.")

	r := f.run("reevaluate", conv)
	if r.code != exitOK || !taskLineRE.MatchString(r.stdout) {
		t.Fatalf("first reevaluate: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// No worker runs: the task holds the conversation.
	for _, args := range [][]string{{"reevaluate", conv}, {"reevaluate", "--legacy", conv}} {
		r := f.run(args...)
		if r.code != exitFail || !strings.Contains(r.stderr, "an evaluation is already in progress for conversation "+conv) {
			t.Errorf("%v while in progress: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}

	for _, c := range []struct {
		name   string
		args   []string
		stderr string
	}{
		{"unknown conversation", []string{"reevaluate", uuid.NewString()}, "404 not_found"},
		{"not a uuid", []string{"reevaluate", "not-a-uuid"},
			"422 validation error\n  path.conversation_id: Input should be a valid UUID, invalid character"},
		{"not a uuid, legacy path", []string{"reevaluate", "123", "--legacy"},
			"422 validation error\n  path.session_id: Input should be a valid UUID"},
		{"unknown key", []string{"reevaluate", conv, "--key", "nope"}, "401 unauthorized"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := f.run(c.args...)
			if r.code != exitFail || !strings.Contains(r.stderr, c.stderr) || r.stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want 1 and %q", r.code, r.stdout, r.stderr, c.stderr)
			}
		})
	}
}

func TestReevaluateWait(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	agent := uuid.NewString()
	f.regex(agent, "Mentions the refund policy", "(?i)refund")
	f.regex(agent, "Offers a discount", "(?i)discount")
	conv := f.conversation(agent, "Yes: our refund policy gives you 30 days.")
	f.startWorker()

	r := f.run("reevaluate", conv, "--wait", "--timeout", "60s")
	if r.code != exitOK {
		t.Fatalf("reevaluate --wait: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	m := taskLineRE.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no task line:\n%s", r.stdout)
	}
	got := lines(r.stdout)
	if want := "task " + m[1] + " completed: 2 runs, 2 completed, 0 failed, 0 errored"; len(got) != 5 || got[1] != want {
		t.Fatalf("stdout:\n%s\nwant the task line, %q and a table of 2 runs", r.stdout, want)
	}
	rows := table(strings.Join(got[2:], "\n"))
	for _, want := range [][]string{
		{"EVALUATOR", "STATUS", "OUTCOME", "SCORE", "PASSED", "TOKENS", "COST", "LATENCY", "ERROR"},
		{"Mentions the refund policy", "completed", "passed", "1.00", "yes", "-", "-", "*", "-"},
		{"Offers a discount", "completed", "failed", "0.00", "no", "-", "-", "*", "-"},
	} {
		if !slices.ContainsFunc(rows, func(r []string) bool { return match(r, want) }) {
			t.Errorf("table %q has no row %q", rows, want)
		}
	}
	// stderr is no terminal: plain progress lines, the last one complete.
	progress := lines(r.stderr)
	if len(progress) == 0 || progress[len(progress)-1] != "[####################] 2/2 runs  completed 2  failed 0  errored 0  completed" {
		t.Errorf("progress:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "\r") {
		t.Errorf("progress redrawn on a pipe: %q", r.stderr)
	}

	// Now that it ended, the conversation can be evaluated again.
	if r := f.run("reevaluate", conv, "--wait"); r.code != exitOK {
		t.Errorf("second reevaluate --wait: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The task command shows it.
	r = f.run("task", m[1])
	if r.code != exitOK || !strings.Contains(r.stdout, "status        completed") || !strings.Contains(r.stdout, "conversation  "+conv) {
		t.Errorf("task: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := f.run("task", m[1], "--json"); r.code != exitOK || !strings.Contains(r.stdout, `"task_id": "`+m[1]+`"`) {
		t.Errorf("task --json: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestReevaluateWaitNoEvaluator(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	conv := f.conversation(uuid.NewString(), "hello")
	f.startWorker()
	r := f.run("reevaluate", conv, "--wait")
	if r.code != exitOK || !strings.Contains(r.stdout, "completed: 0 runs") || strings.Contains(r.stdout, "EVALUATOR") {
		t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "0 runs: no evaluator is bound") {
		t.Errorf("progress:\n%s", r.stderr)
	}
}

func TestReevaluateWaitTimeout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	conv := f.conversation(uuid.NewString(), "hello")
	// No worker: the task stays queued.
	r := f.run("reevaluate", conv, "--wait", "--timeout", "300ms")
	m := taskLineRE.FindStringSubmatch(r.stdout)
	if r.code != exitFail || m == nil {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if want := "timed out after 300ms; the task goes on: plume task " + m[1]; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr %q does not contain %q", r.stderr, want)
	}
	if !strings.Contains(r.stderr, "queued, waiting for a worker") {
		t.Errorf("no progress shown: %q", r.stderr)
	}
}
