package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

var reevaluateSpec = spec{
	name:     "reevaluate",
	synopsis: "plume reevaluate <conversation_id> [--wait] [--timeout <duration>] [--legacy] [--url <url>] [--key <key>]",
	about: `Re-runs every evaluator bound to the conversation's agent or scenario, with fresh
snapshots (POST /v1/v2/conversations/{id}/reevaluate), and prints the task id.
The conversation's previous runs are replaced by the new ones.

With --wait it follows the task (GET /v1/eval-tasks/{id}) until every run has
ended, drawing a progress bar on standard error when it is a terminal (plain
progress lines otherwise), then prints a table of the task's runs. It exits 0
when the task completes, whatever the runs' outcomes, and 1 when --timeout
passes first (the task goes on; 'plume task <id>' shows it).

While a run of the conversation is pending or running the API refuses a new
evaluation (409): the command says so and exits 1.`,
	examples: `  plume reevaluate 00000000-0000-4000-8000-0000000000c1
  plume reevaluate 00000000-0000-4000-8000-0000000000c1 --wait
  plume reevaluate 8c3f0a52-6d1e-4b7a-9f20-3e5d7c9b1a04 --wait --timeout 30m \
      --url https://api.example.com --key "$PLUME_API_KEY"`,
}

func (c *cli) runReevaluate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	s := reevaluateSpec
	fs := s.flags()
	wait := fs.Bool("wait", false, "follow the task until it completes, then print its runs")
	timeout := fs.Duration("timeout", 10*time.Minute, "how long --wait waits")
	legacy := fs.Bool("legacy", false, "use the legacy path POST /v1/sessions/{id}/reevaluate")
	af := addAPIFlags(fs)
	pos, code, ok := s.parse(fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return s.usageError(stderr, "want one conversation id")
	}
	if *timeout <= 0 {
		return s.usageError(stderr, "--timeout must be positive")
	}
	cl, err := c.client(af, stderr)
	if err != nil {
		return s.usageError(stderr, err.Error())
	}
	conv := pos[0]
	path := "/v1/v2/conversations/" + url.PathEscape(conv) + "/reevaluate"
	if *legacy {
		path = "/v1/sessions/" + url.PathEscape(conv) + "/reevaluate"
	}
	var acc taskAccepted
	if _, err := cl.do(ctx, http.MethodPost, path, nil, nil, &acc); err != nil {
		if isCode(err, "eval_in_progress") {
			return s.fail(stderr, fmt.Errorf("an evaluation is already in progress for conversation %s; "+
				"try again when it ends ('plume runs --session %s' shows its runs)", conv, conv))
		}
		return s.fail(stderr, err)
	}
	fmt.Fprintf(stdout, "task %s %s\n", acc.TaskID, acc.Status)
	if !*wait {
		return exitOK
	}

	wctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	p := newProgress(stderr, c.tty(stderr), c.now)
	t, err := c.wait(wctx, cl, acc.TaskID, p)
	p.end()
	if err != nil {
		switch {
		case ctx.Err() != nil:
			err = fmt.Errorf("interrupted; the task goes on: plume task %s", acc.TaskID)
		case errors.Is(err, context.DeadlineExceeded):
			err = fmt.Errorf("timed out after %s; the task goes on: plume task %s", *timeout, acc.TaskID)
		}
		return s.fail(stderr, err)
	}
	fmt.Fprintf(stdout, "task %s completed: %d %s, %d completed, %d failed, %d errored\n",
		t.TaskID, t.Total, plural(t.Total, "run"), t.Completed, t.Failed, t.Errored)
	if t.Total == 0 {
		return exitOK
	}
	runs, err := allRuns(ctx, cl, url.Values{"task_id": {t.TaskID}})
	if err != nil {
		return s.fail(stderr, fmt.Errorf("list the task's runs: %w", err))
	}
	writeRuns(stdout, runs, cl.evaluatorNames(ctx, runs), false)
	return exitOK
}

// maxPollFailures is how many polls in a row may fail (network, 5xx)
// before waiting gives up.
const maxPollFailures = 5

// wait polls the task until it completes, showing each answer on p. The
// interval starts at pollMin, grows to pollMax while nothing changes, and
// starts over when something does.
func (c *cli) wait(ctx context.Context, cl *client, id string, p *progress) (task, error) {
	interval := c.pollMin
	var last task
	failures := 0
	for {
		t, err := cl.task(ctx, id)
		switch {
		case ctx.Err() != nil:
			return last, ctx.Err()
		case err != nil:
			var ae *apiError
			if errors.As(err, &ae) && ae.Status < http.StatusInternalServerError {
				return last, err // 401, 404: polling again cannot help
			}
			if failures++; failures >= maxPollFailures {
				return last, err
			}
		default:
			failures = 0
			p.update(t)
			if t.Status == "completed" {
				return t, nil
			}
			if describe(t) != describe(last) {
				interval = c.pollMin
			} else {
				interval = min(interval*3/2, c.pollMax)
			}
			last = t
		}
		if err := sleep(ctx, interval); err != nil {
			return last, err
		}
	}
}
