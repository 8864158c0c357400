package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestRuns(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	agent := uuid.NewString()
	refund := f.regex(agent, "Mentions the refund policy", "(?i)refund")
	discount := f.regex(agent, "Offers a discount", "(?i)discount")
	c1 := f.conversation(agent, "Yes: our refund policy gives you 30 days.")
	c2 := f.conversation(agent, "No, but here is a discount code.")
	f.startWorker()
	tasks := map[string]string{}
	for _, c := range []string{c1, c2} {
		r := f.run("reevaluate", c, "--wait", "--timeout", "60s")
		m := taskLineRE.FindStringSubmatch(r.stdout)
		if r.code != exitOK || m == nil {
			t.Fatalf("reevaluate %s: exit %d\n%s%s", c, r.code, r.stdout, r.stderr)
		}
		tasks[c] = m[1]
	}

	// A run as the table shows it: conversation, evaluator, outcome.
	type row struct{ conv, evaluator, outcome string }
	var (
		c1Refund   = row{c1, "Mentions the refund policy", "passed"}
		c1Discount = row{c1, "Offers a discount", "failed"}
		c2Refund   = row{c2, "Mentions the refund policy", "failed"}
		c2Discount = row{c2, "Offers a discount", "passed"}
		all        = []row{c1Refund, c1Discount, c2Refund, c2Discount}
	)
	for _, c := range []struct {
		name       string
		args       []string
		want       []row
		more       bool // a cursor to the next page is printed
		wantStderr string
	}{
		{"everything", nil, all, false, ""},
		{"one conversation", []string{"--session", c1}, []row{c1Refund, c1Discount}, false, ""},
		{"one evaluator", []string{"--evaluator", refund}, []row{c1Refund, c2Refund}, false, ""},
		{"outcome", []string{"--outcome", "passed"}, []row{c1Refund, c2Discount}, false, ""},
		{"outcome and conversation", []string{"--outcome", "passed", "--session", c1}, []row{c1Refund}, false, ""},
		{"score at most", []string{"--score-max", "0.5"}, []row{c1Discount, c2Refund}, false, ""},
		{"score at least and evaluator", []string{"--score-min", "0.5", "--evaluator", discount}, []row{c2Discount}, false, ""},
		{"status, scope and agent", []string{"--status", "completed", "--scope", "live", "--agent", agent}, all, false, ""},
		{"no match", []string{"--scope", "test"}, nil, false, ""},
		{"task", []string{"--task", tasks[c2]}, []row{c2Refund, c2Discount}, false, ""},
		{"one page", []string{"--limit", "3"}, nil, true, "more runs: add --cursor "},
		{"all pages", []string{"--limit", "1", "--all"}, all, false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := f.run(append([]string{"runs"}, c.args...)...)
			if r.code != exitOK {
				t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			if (r.stderr != "") != c.more || !strings.Contains(r.stderr, c.wantStderr) {
				t.Errorf("stderr %q; want a next-page cursor: %v", r.stderr, c.more)
			}
			rows := table(r.stdout)
			if c.more {
				if len(rows) != 4 {
					t.Errorf("a page of 3 runs printed %d rows:\n%s", len(rows)-1, r.stdout)
				}
				return
			}
			if len(c.want) == 0 {
				if r.stdout != "no runs\n" {
					t.Errorf("stdout %q, want no runs", r.stdout)
				}
				return
			}
			if want := []string{"RUN", "CONVERSATION", "EVALUATOR", "STATUS", "OUTCOME", "SCORE", "PASSED", "TOKENS", "COST", "LATENCY", "ERROR"}; !slices.Equal(rows[0], want) {
				t.Errorf("header %q, want %q", rows[0], want)
			}
			var got []row
			for _, cells := range rows[1:] {
				if len(cells) != 11 || uuid.Validate(cells[0]) != nil || cells[3] != "completed" {
					t.Errorf("row %q", cells)
					continue
				}
				got = append(got, row{cells[1], cells[2], cells[4]})
			}
			cmpRows := func(a, b row) int { return strings.Compare(a.conv+a.evaluator, b.conv+b.evaluator) }
			slices.SortFunc(got, cmpRows)
			want := slices.Clone(c.want)
			slices.SortFunc(want, cmpRows)
			if !slices.Equal(got, want) {
				t.Errorf("runs %v\nwant %v", got, want)
			}
		})
	}

	t.Run("json lines", func(t *testing.T) {
		t.Parallel()
		r := f.run("runs", "--json", "--session", c2, "--limit", "1", "--all")
		ls := lines(r.stdout)
		if r.code != exitOK || len(ls) != 2 {
			t.Fatalf("exit %d, %d lines\n%s%s", r.code, len(ls), r.stdout, r.stderr)
		}
		for _, l := range ls {
			var run map[string]any
			if err := json.Unmarshal([]byte(l), &run); err != nil || run["session_id"] != c2 || run["task_id"] != tasks[c2] {
				t.Errorf("line %s: %v", l, err)
			}
		}
	})

	for _, c := range []struct {
		name   string
		args   []string
		stderr string
	}{
		{"bad status", []string{"--status", "done"},
			"422 validation error\n  query.status: Input should be 'pending', 'running', 'completed', 'failed' or 'errored'"},
		{"score out of range", []string{"--score-min", "2"}, "422 validation error\n  query.score_min: "},
		{"bad id", []string{"--session", "c1"}, "422 validation error\n  query.session_id: Input should be a valid UUID"},
		{"bad cursor", []string{"--cursor", "nope"}, "422 validation error\n  query.cursor: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := f.run(append([]string{"runs"}, c.args...)...)
			if r.code != exitFail || !strings.Contains(r.stderr, c.stderr) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", r.code, r.stderr, c.stderr)
			}
		})
	}
}
