package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

var runsSpec = spec{
	name: "runs",
	synopsis: "plume runs [--session <id>] [--evaluator <id>] [--agent <id>] [--task <id>] [--status <s>]\n" +
		"                  [--outcome <o>] [--scope <s>] [--score-min <x>] [--score-max <x>]\n" +
		"                  [--limit <n>] [--cursor <c>] [--all] [--json] [--url <url>] [--key <key>]",
	about: `Lists eval runs, newest first (GET /v1/eval-runs): only each conversation's
current runs. Filters combine (AND). Prints a table, or with --json the runs as
the API returns them, one JSON object per line. Without --all one page is
printed (--limit runs) and, when there are more, the cursor of the next page.

  --status    pending, running, completed, failed, errored
  --outcome   passed, failed, no_verdict, errored
  --scope     live, simulation, test (the conversation's session type)
  --score-min, --score-max   0..1, compared with the run's lowest score`,
	examples: `  plume runs --session 00000000-0000-4000-8000-0000000000c1
  plume runs --evaluator 00000000-0000-4000-8000-0000000000e1 --outcome failed --all
  plume runs --scope live --score-max 0.5 --limit 200
  plume runs --task 3f6c2b1e-8d4a-4f0e-9b7c-1a2d3e4f5a6b --json | jq .cost_usd`,
}

func (c *cli) runRuns(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	s := runsSpec
	fs := s.flags()
	q := url.Values{}
	for _, f := range []struct{ flag, param, help string }{
		{"session", "session_id", "conversation `id`"},
		{"evaluator", "evaluator_id", "evaluator `id`"},
		{"agent", "agent_id", "agent `id`"},
		{"task", "task_id", "task `id` (reevaluate or retry)"},
		{"status", "status", "run `status`"},
		{"outcome", "outcome", "run `outcome`"},
		{"scope", "scope", "session type (`scope`)"},
		{"score-min", "score_min", "lowest score at least `x`"},
		{"score-max", "score_max", "lowest score at most `x`"},
	} {
		fs.Func(f.flag, f.help, func(v string) error {
			if strings.HasPrefix(f.param, "score_") {
				if _, err := strconv.ParseFloat(v, 64); err != nil {
					return fmt.Errorf("want a number between 0 and 1")
				}
			}
			q.Set(f.param, v)
			return nil
		})
	}
	limit := fs.Int("limit", 50, "`n` runs per page, 1..200")
	cursor := fs.String("cursor", "", "start at this page `cursor` (printed after a page)")
	all := fs.Bool("all", false, "follow next_cursor to the last page")
	asJSON := fs.Bool("json", false, "print JSON lines instead of a table")
	af := addAPIFlags(fs)
	pos, code, ok := s.parse(fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return s.usageError(stderr, "unexpected argument "+pos[0])
	}
	cl, err := c.client(af, stderr)
	if err != nil {
		return s.usageError(stderr, err.Error())
	}
	q.Set("limit", strconv.Itoa(*limit))
	if *cursor != "" {
		q.Set("cursor", *cursor)
	}
	var runs []evalRun
	var next string
	for {
		p, err := cl.runs(ctx, q)
		if err != nil {
			return s.fail(stderr, err)
		}
		for _, raw := range p.Items {
			if *asJSON {
				var b bytes.Buffer
				if err := json.Compact(&b, raw); err != nil {
					return s.fail(stderr, err)
				}
				fmt.Fprintf(stdout, "%s\n", b.Bytes())
				continue
			}
			var r evalRun
			if err := json.Unmarshal(raw, &r); err != nil {
				return s.fail(stderr, fmt.Errorf("a run is not the expected JSON: %w", err))
			}
			runs = append(runs, r)
		}
		next = ""
		if p.HasMore && p.NextCursor != nil {
			next = *p.NextCursor
		}
		if !*all || next == "" {
			break
		}
		q.Set("cursor", next)
	}
	if !*asJSON {
		if len(runs) == 0 {
			fmt.Fprintln(stdout, "no runs")
		} else {
			writeRuns(stdout, runs, cl.evaluatorNames(ctx, runs), true)
		}
	}
	if next != "" {
		fmt.Fprintf(stderr, "more runs: add --cursor %s for the next page, or --all\n", next)
	}
	return exitOK
}

// allRuns follows every page of GET /v1/eval-runs with q.
func allRuns(ctx context.Context, cl *client, q url.Values) ([]evalRun, error) {
	q.Set("limit", "200")
	var out []evalRun
	for {
		p, err := cl.runs(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, raw := range p.Items {
			var r evalRun
			if err := json.Unmarshal(raw, &r); err != nil {
				return nil, fmt.Errorf("a run is not the expected JSON: %w", err)
			}
			out = append(out, r)
		}
		if !p.HasMore || p.NextCursor == nil {
			return out, nil
		}
		q.Set("cursor", *p.NextCursor)
	}
}

// writeRuns prints runs as a table; withIDs adds the run and conversation
// ids (a listing across conversations needs them, one task's table not).
func writeRuns(w io.Writer, runs []evalRun, names map[string]string, withIDs bool) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "EVALUATOR\tSTATUS\tOUTCOME\tSCORE\tPASSED\tTOKENS\tCOST\tLATENCY\tERROR"
	if withIDs {
		head = "RUN\tCONVERSATION\t" + head
	}
	fmt.Fprintln(tw, head)
	for _, r := range runs {
		if withIDs {
			fmt.Fprintf(tw, "%s\t%s\t", r.ID, r.SessionID)
		}
		name := names[r.EvaluatorID]
		if name == "" {
			name = r.EvaluatorID
		}
		outcome := "-"
		if r.Outcome != nil {
			outcome = *r.Outcome
		}
		errText := "-"
		if r.ErrorText != nil && *r.ErrorText != "" {
			errText = oneLine(*r.ErrorText, 60)
		}
		score, passed := scoreOf(r)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", oneLine(name, 40), r.Status, outcome, score, passed,
			tokens(r), cost(r.CostUSD), latency(r), errText)
	}
	_ = tw.Flush()
}

// scoreOf returns the run's lowest score (the one score_min and score_max
// compare) and whether every score passed.
func scoreOf(r evalRun) (score, passed string) {
	if len(r.Scores) == 0 {
		return "-", "-"
	}
	low, all := r.Scores[0].Value, true
	for _, s := range r.Scores {
		low = min(low, s.Value)
		all = all && s.Passed
	}
	passed = "no"
	if all {
		passed = "yes"
	}
	return strconv.FormatFloat(low, 'f', 2, 64), passed
}

func tokens(r evalRun) string {
	if r.InputTokens == 0 && r.OutputTokens == 0 {
		return "-"
	}
	return strconv.FormatInt(r.InputTokens+r.OutputTokens, 10)
}

func cost(usd float64) string {
	if usd == 0 {
		return "-"
	}
	return fmt.Sprintf("$%.4f", usd)
}

func latency(r evalRun) string {
	if r.Status == "pending" || r.Status == "running" {
		return "-"
	}
	return (time.Duration(r.LatencyMS) * time.Millisecond).String()
}

var taskSpec = spec{
	name:     "task",
	synopsis: "plume task <task_id> [--json] [--url <url>] [--key <key>]",
	about: `Shows an eval task (GET /v1/eval-tasks/{id}): its conversation, kind (reevaluate
or retry), status (queued, running, completed) and run counts.`,
	examples: `  plume task 3f6c2b1e-8d4a-4f0e-9b7c-1a2d3e4f5a6b
  plume task 3f6c2b1e-8d4a-4f0e-9b7c-1a2d3e4f5a6b --json`,
}

func (c *cli) runTask(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	s := taskSpec
	fs := s.flags()
	asJSON := fs.Bool("json", false, "print the task as the API returns it")
	af := addAPIFlags(fs)
	pos, code, ok := s.parse(fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return s.usageError(stderr, "want one task id")
	}
	cl, err := c.client(af, stderr)
	if err != nil {
		return s.usageError(stderr, err.Error())
	}
	var raw json.RawMessage
	if _, err := cl.do(ctx, http.MethodGet, "/v1/eval-tasks/"+url.PathEscape(pos[0]), nil, nil, &raw); err != nil {
		return s.fail(stderr, err)
	}
	if *asJSON {
		var b bytes.Buffer
		if err := json.Indent(&b, raw, "", "  "); err != nil {
			return s.fail(stderr, err)
		}
		fmt.Fprintf(stdout, "%s\n", b.Bytes())
		return exitOK
	}
	var t task
	if err := json.Unmarshal(raw, &t); err != nil {
		return s.fail(stderr, fmt.Errorf("the task is not the expected JSON: %w", err))
	}
	finished := "-"
	if t.FinishedAt != nil {
		finished = *t.FinishedAt
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "task\t%s\n", t.TaskID)
	fmt.Fprintf(tw, "conversation\t%s\n", t.SessionID)
	fmt.Fprintf(tw, "kind\t%s\n", t.Kind)
	fmt.Fprintf(tw, "status\t%s\n", t.Status)
	fmt.Fprintf(tw, "runs\t%d: %d completed, %d failed, %d errored, %d pending\n", t.Total, t.Completed, t.Failed, t.Errored, t.Pending)
	fmt.Fprintf(tw, "progress\t%s\n", describe(t))
	fmt.Fprintf(tw, "created\t%s\n", t.CreatedAt)
	fmt.Fprintf(tw, "finished\t%s\n", finished)
	_ = tw.Flush()
	return exitOK
}
