package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/plume-evals/plume/internal/eval"
	"github.com/plume-evals/plume/internal/judge"
	"github.com/plume-evals/plume/internal/scorer"
)

// verdict is what one successful evaluation produced.
type verdict struct {
	value     float64
	boolean   bool // the evaluator answered pass/fail
	rationale string
	evidence  []string
	inTokens  int64
	outTokens int64
	cost      float64
}

// failure classes of one attempt.
type class int

const (
	retry   class = iota // transient: try again
	errored              // could not run: errored now
	failed               // ran, output unusable: failed now
)

// classify decides what an attempt's error means.
func classify(err error) (class, time.Duration) {
	var je *judge.Error
	switch {
	case errors.Is(err, scorer.ErrConfig):
		return errored, 0
	case errors.Is(err, scorer.ErrEval):
		return failed, 0
	case errors.As(err, &je):
		if je.Kind.Retryable() {
			return retry, je.RetryAfter
		}
		return errored, 0
	}
	return retry, 0
}

// runOne takes one run to a terminal status, or hands it back with a
// *Requeue. Its happy path writes twice: running, then the result.
func (w *Worker) runOne(ctx context.Context, log *slog.Logger, task eval.Task, conv eval.Conversation, turns []eval.Turn, r eval.Run) error {
	if !w.timeFor(ctx, r.Snapshot.Kind, 0) {
		return &Requeue{Reason: "invocation deadline near"}
	}
	now := w.Now().UTC()
	r.Status = eval.StatusRunning
	if r.StartedAt == nil {
		r.StartedAt = &now
	}
	r.Attempts++
	if err := w.Store.SaveRun(ctx, r); err != nil {
		return err
	}
	for {
		start := w.Now()
		v, err := w.evaluate(ctx, r, conv, turns)
		r.LatencyMS = w.Now().Sub(start).Milliseconds()
		r.InputTokens += v.inTokens
		r.OutputTokens += v.outTokens
		r.CostUSD += v.cost
		if err == nil {
			w.complete(&r, v)
			return w.save(ctx, log, r)
		}
		cls, after := classify(err)
		msg := err.Error()
		switch {
		case cls == errored:
			w.end(&r, eval.StatusErrored, msg)
			return w.save(ctx, log, r)
		case cls == failed:
			w.end(&r, eval.StatusFailed, msg)
			return w.save(ctx, log, r)
		case r.Attempts >= w.MaxAttempts:
			status := eval.StatusErrored
			var je *judge.Error
			if errors.As(err, &je) && je.Kind == judge.Malformed {
				status = eval.StatusFailed
			}
			w.end(&r, status, fmt.Sprintf("gave up after %d attempts: %s", r.Attempts, msg))
			return w.save(ctx, log, r)
		}
		delay := backoff(r.Attempts, after, w.MaxBackoff)
		log.WarnContext(ctx, "attempt failed; retrying", "attempt", r.Attempts, "delay", delay, "err", msg)
		r.ErrorText = ptr(fmt.Sprintf("attempt %d failed: %s; retrying", r.Attempts, msg))
		if delay > w.MaxBackoff || !w.timeFor(ctx, r.Snapshot.Kind, delay) {
			// Not in this invocation: hand the run back with its progress.
			if err := w.Store.SaveRun(ctx, r); err != nil {
				return err
			}
			return &Requeue{Delay: delay, Reason: msg, Progress: true}
		}
		if err := w.Sleep(ctx, delay); err != nil {
			return err
		}
		r.Attempts++
	}
}

// timeFor reports whether an attempt of an evaluator of kind after wait
// still fits before the invocation's deadline: a judge call needs
// JudgeTimeout, a deterministic evaluator only the margin. Deadlines are
// wall-clock times, so this reads the real clock, not w.Now.
func (w *Worker) timeFor(ctx context.Context, kind string, wait time.Duration) bool {
	dl, ok := ctx.Deadline()
	need := wait + w.Margin
	if kind == eval.KindModelJudge {
		need += w.JudgeTimeout
	}
	return !ok || time.Until(dl) > need
}

// backoff is the wait before attempt n+1: the provider's Retry-After when
// it gave one, else exponential from 1 s with jitter, capped.
func backoff(n int, retryAfter, ceiling time.Duration) time.Duration {
	if retryAfter > 0 {
		return retryAfter
	}
	d := time.Second << min(n-1, 10)
	d = d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
	return min(d, ceiling)
}

func (w *Worker) end(r *eval.Run, status, msg string) {
	now := w.Now().UTC()
	r.Status, r.FinishedAt, r.ErrorText = status, &now, &msg
}

func (w *Worker) complete(r *eval.Run, v verdict) {
	now := w.Now().UTC()
	passed := eval.Passed(r.Snapshot.Format, r.Snapshot.Threshold, v.value)
	if v.boolean && r.Snapshot.Format == eval.FormatBoolean {
		passed = v.value >= 1
	}
	label := "fail"
	if passed {
		label = "pass"
	}
	raw := v.value
	s := eval.Score{
		ID: eval.ScoreID(r.ID, r.EvaluatorID, 0), OrgID: r.OrgID, RunID: r.ID, Value: v.value, RawValue: &raw,
		Label: &label, Passed: passed, Severity: r.Snapshot.Severity, Blocking: r.Snapshot.IsCritical && !passed,
		CreatedAt: now, EvidenceTurnID: v.evidence,
	}
	if v.rationale != "" {
		s.Rationale = ptr(v.rationale)
	}
	r.Scores = []eval.Score{s}
	r.Status, r.FinishedAt, r.ErrorText = eval.StatusCompleted, &now, nil
}

func (w *Worker) save(ctx context.Context, log *slog.Logger, r eval.Run) error {
	if w.BeforeSave != nil {
		if err := w.BeforeSave(r); err != nil {
			return err
		}
	}
	if err := w.Store.SaveRun(ctx, r); err != nil {
		return err
	}
	w.Metrics.run(r, w.Now())
	log.InfoContext(ctx, "run ended", "status", r.Status, "attempts", r.Attempts, "latency_ms", r.LatencyMS,
		"input_tokens", r.InputTokens, "output_tokens", r.OutputTokens, "cost_usd", r.CostUSD)
	return nil
}

// evaluate makes one attempt at the run's evaluator.
func (w *Worker) evaluate(ctx context.Context, r eval.Run, conv eval.Conversation, turns []eval.Turn) (verdict, error) {
	s := r.Snapshot
	switch s.Kind {
	case eval.KindExpression, eval.KindRegex:
		res, err := scorer.Run(ctx, s.Kind, s.Config, scorer.Input{Conversation: conv, Turns: turns})
		if err != nil {
			return verdict{}, err
		}
		return verdict{value: res.Value, boolean: res.Boolean, rationale: res.Rationale, evidence: res.Evidence}, nil
	case eval.KindModelJudge:
		return w.judge(ctx, s, turns)
	}
	return verdict{}, fmt.Errorf("%w: unknown evaluator kind %q", scorer.ErrConfig, s.Kind)
}

func (w *Worker) judge(ctx context.Context, s eval.Snapshot, turns []eval.Turn) (verdict, error) {
	provider, _ := s.Config["provider"].(string)
	if provider == "" {
		provider = "openai"
	}
	p, err := w.Judges.For(provider)
	if err != nil {
		return verdict{}, err
	}
	req := judge.Request{Model: w.DefaultModel, Instructions: s.Prompt, Format: judge.Format(s.Format)}
	if m, ok := s.Config["model"].(string); ok && m != "" {
		req.Model = m
	}
	if t, ok := number(s.Config["temperature"]); ok {
		req.Temperature = t
	}
	if n, ok := number(s.Config["max_tokens"]); ok {
		req.MaxTokens = int(n)
	}
	for _, t := range turns {
		req.Transcript = append(req.Transcript, judge.Turn{Role: t.Role, Content: t.Content, CreatedAt: t.CreatedAt})
	}
	jctx, cancel := context.WithTimeout(ctx, w.JudgeTimeout)
	defer cancel()
	v, err := p.Judge(jctx, req)
	// An unusable answer was still paid for: its tokens count.
	out := verdict{rationale: v.Rationale, inTokens: v.InputTokens, outTokens: v.OutputTokens}
	model := v.Model
	if model == "" {
		model = req.Model
	}
	out.cost, _ = w.Prices.Cost(model, v.InputTokens, v.OutputTokens)
	if err != nil {
		return out, err
	}
	switch {
	case v.Score != nil:
		out.value = *v.Score
	case v.Passed != nil:
		out.boolean = true
		if *v.Passed {
			out.value = 1
		}
	}
	return out, nil
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	}
	return 0, false
}
