package main

import (
	"strings"
	"testing"
	"time"
)

func TestDescribe(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		task task
		want string
	}{
		{"queued", task{Status: "queued"}, "[--------------------] queued, waiting for a worker"},
		{"planning", task{Status: "running"}, "[--------------------] running, planning the runs"},
		{"half", task{Status: "running", Total: 6, Completed: 2, Errored: 1, Pending: 3},
			"[##########----------] 3/6 runs  completed 2  failed 0  errored 1  running"},
		{"rounds down", task{Status: "running", Total: 3, Completed: 1, Pending: 2},
			"[######--------------] 1/3 runs  completed 1  failed 0  errored 0  running"},
		{"done", task{Status: "completed", Total: 2, Completed: 1, Failed: 1},
			"[####################] 2/2 runs  completed 1  failed 1  errored 0  completed"},
		{"nothing bound", task{Status: "completed"},
			"[####################] 0 runs: no evaluator is bound to the conversation's agent or scenario"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := describe(c.task); got != c.want {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestProgress(t *testing.T) {
	t.Parallel()
	steps := []task{
		{Status: "queued"}, {Status: "queued"}, {Status: "running", Total: 2, Pending: 2},
		{Status: "running", Total: 2, Completed: 1, Pending: 1}, {Status: "completed", Total: 2, Completed: 2},
	}
	for _, c := range []struct {
		name string
		tty  bool
		want string
	}{
		{"terminal: one line redrawn, with the time waited", true, "" +
			"\r\x1b[K[--------------------] queued, waiting for a worker  0s" +
			"\r\x1b[K[--------------------] queued, waiting for a worker  1s" +
			"\r\x1b[K[--------------------] 0/2 runs  completed 0  failed 0  errored 0  running  2s" +
			"\r\x1b[K[##########----------] 1/2 runs  completed 1  failed 0  errored 0  running  3s" +
			"\r\x1b[K[####################] 2/2 runs  completed 2  failed 0  errored 0  completed  4s\n"},
		{"pipe: a line per change", false, "" +
			"[--------------------] queued, waiting for a worker\n" +
			"[--------------------] 0/2 runs  completed 0  failed 0  errored 0  running\n" +
			"[##########----------] 1/2 runs  completed 1  failed 0  errored 0  running\n" +
			"[####################] 2/2 runs  completed 2  failed 0  errored 0  completed\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			start := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
			now := start
			var b strings.Builder
			p := newProgress(&b, c.tty, func() time.Time { return now })
			for _, s := range steps {
				p.update(s)
				now = now.Add(time.Second)
			}
			p.end()
			if b.String() != c.want {
				t.Errorf("got  %q\nwant %q", b.String(), c.want)
			}
		})
	}
}
