package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/plume-evals/plume/internal/eval"
	"github.com/plume-evals/plume/internal/judge"
	"github.com/plume-evals/plume/internal/store"
)

// Store is the storage the worker needs (*store.Store).
type Store interface {
	GetConversation(ctx context.Context, orgID, id string) (eval.Conversation, error)
	Turns(ctx context.Context, orgID, id string) ([]eval.Turn, error)
	GetTask(ctx context.Context, orgID, id string) (eval.Task, error)
	PlanTask(ctx context.Context, task eval.Task, runIDs, evaluatorIDs []string) (eval.Task, error)
	StartTask(ctx context.Context, task eval.Task) error
	BindingsFor(ctx context.Context, orgID, agentID, scenarioID string) ([]eval.Binding, error)
	GetEvaluators(ctx context.Context, orgID string, ids []string) (map[string]eval.Evaluator, error)
	GetRuns(ctx context.Context, orgID string, ids []string) (map[string]eval.Run, error)
	RunsOfGeneration(ctx context.Context, orgID, sessionID, gen string) ([]eval.Run, error)
	CreateRuns(ctx context.Context, task eval.Task, runs []eval.Run) error
	SaveRun(ctx context.Context, r eval.Run) error
	DeleteOtherGenerations(ctx context.Context, orgID, sessionID, keep string) (int, error)
	ExtendLease(ctx context.Context, task eval.Task, until time.Time) error
	Finish(ctx context.Context, task eval.Task, sum eval.Summary, now time.Time) error
	Expired(ctx context.Context, now time.Time, limit int) ([]eval.Conversation, error)
}

var _ Store = (*store.Store)(nil)

// Judges gives the judge provider of a name (judge.Set).
type Judges interface {
	For(provider string) (judge.Provider, error)
}

// Worker runs tasks. Its zero values are not usable; see New's defaults.
type Worker struct {
	Store        Store
	Judges       Judges
	Prices       judge.Prices
	DefaultModel string
	// Concurrency is how many runs of one task execute at once.
	Concurrency int
	// MaxAttempts is how many attempts a run gets before a terminal status.
	MaxAttempts int
	// Lease is how long the guard is held past the latest sign of life.
	Lease time.Duration
	// JudgeTimeout bounds one judge call; the worker starts no run with less
	// than JudgeTimeout+Margin left before its deadline.
	JudgeTimeout time.Duration
	Margin       time.Duration
	// MaxBackoff caps one wait between attempts inside an invocation.
	MaxBackoff time.Duration
	Now        func() time.Time
	Sleep      func(ctx context.Context, d time.Duration) error
	Log        *slog.Logger
	// BeforeSave, when set, is called before each run's final write (tests
	// use it to stop the worker between the judge's answer and the write).
	BeforeSave func(r eval.Run) error
	// Metrics receives one CloudWatch EMF line per ended run; nil for none.
	Metrics *emf
}

// EmitMetrics makes the worker write CloudWatch EMF lines to w (the
// Lambda's stdout).
func (w *Worker) EmitMetrics(out io.Writer) { w.Metrics = &emf{w: out} }

// New returns a worker with Plume's defaults.
func New(st Store, judges Judges, prices judge.Prices, log *slog.Logger) *Worker {
	return &Worker{
		Store: st, Judges: judges, Prices: prices, DefaultModel: "gpt-4o-mini", Concurrency: 4, MaxAttempts: 5,
		Lease: 15 * time.Minute, JudgeTimeout: 60 * time.Second, Margin: 5 * time.Second, MaxBackoff: 30 * time.Second,
		Now: time.Now, Sleep: sleep, Log: log,
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Requeue asks for a task to be delivered again after Delay: it is not done
// and the worker handed it back (deadline near, or a provider asked to wait).
type Requeue struct {
	Delay  time.Duration
	Reason string
	// Progress says that this delivery made at least one attempt: the task
	// moves forward, so its next delivery may be a fresh message instead of
	// a redelivery that counts toward the dead-letter queue.
	Progress bool
}

func (r *Requeue) Error() string { return fmt.Sprintf("requeue in %s: %s", r.Delay, r.Reason) }

// Run executes one delivery of a task. It returns nil when the delivery is
// finished with (the task completed, or it is stale and must be ignored), a
// *Requeue when the task must come back, or another error (also retried by
// the queue).
func (w *Worker) Run(ctx context.Context, ref eval.Task) error {
	log := w.Log.With("task_id", ref.ID, "conversation_id", ref.SessionID)
	task, err := w.Store.GetTask(ctx, ref.OrgID, ref.ID)
	if errors.Is(err, eval.ErrNotFound) {
		log.InfoContext(ctx, "task not found (aborted); message ignored")
		return nil
	}
	if err != nil {
		return err
	}
	if task.Status == eval.TaskCompleted {
		log.InfoContext(ctx, "task already completed; duplicate delivery ignored")
		return nil
	}
	conv, err := w.Store.GetConversation(ctx, task.OrgID, task.SessionID)
	if errors.Is(err, eval.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if conv.Guard.ActiveTask != task.ID {
		log.InfoContext(ctx, "task superseded; message ignored", "active_task", conv.Guard.ActiveTask)
		return nil
	}
	if err := w.Store.ExtendLease(ctx, task, w.Now().Add(w.Lease)); err != nil {
		return ignoreStale(ctx, log, err)
	}
	var missing []eval.Run
	if task.Kind == eval.TaskReevaluate {
		if task, missing, err = w.plan(ctx, task, conv); err != nil {
			return ignoreStale(ctx, log, err)
		}
	} else if err := w.Store.StartTask(ctx, task); err != nil {
		return err
	}
	turns, err := w.Store.Turns(ctx, task.OrgID, task.SessionID)
	if err != nil {
		return err
	}
	if err := w.execute(ctx, log, task, conv, turns, missing); err != nil {
		return ignoreStale(ctx, log, err)
	}
	return ignoreStale(ctx, log, w.finish(ctx, task, conv))
}

func ignoreStale(ctx context.Context, log *slog.Logger, err error) error {
	if errors.Is(err, eval.ErrStale) {
		log.InfoContext(ctx, "task lost its guard to a newer one; stopping", "err", err)
		return nil
	}
	return err
}

// plan fixes the task's runs (once), deletes the runs of earlier
// generations and returns the runs still to create, with fresh snapshots
// of the planned evaluators. execute creates them.
func (w *Worker) plan(ctx context.Context, task eval.Task, conv eval.Conversation) (eval.Task, []eval.Run, error) {
	bindings, err := w.Store.BindingsFor(ctx, task.OrgID, conv.AgentID, conv.ScenarioID)
	if err != nil {
		return task, nil, err
	}
	critical := map[string]bool{}
	var ids []string
	for _, b := range bindings {
		if _, seen := critical[b.EvaluatorID]; !seen {
			ids = append(ids, b.EvaluatorID)
		}
		critical[b.EvaluatorID] = critical[b.EvaluatorID] || b.IsCritical
	}
	var evaluators map[string]eval.Evaluator
	if !isPlanned(task) {
		if evaluators, err = w.Store.GetEvaluators(ctx, task.OrgID, ids); err != nil {
			return task, nil, err
		}
		type planned struct{ run, evaluator string }
		var ps []planned
		for _, id := range ids {
			if e, ok := evaluators[id]; ok && e.Status == eval.EvaluatorActive {
				ps = append(ps, planned{eval.RunID(task.Generation, id), id})
			}
		}
		slices.SortFunc(ps, func(a, b planned) int { return strings.Compare(a.run, b.run) })
		runIDs, evIDs := make([]string, len(ps)), make([]string, len(ps))
		for i, p := range ps {
			runIDs[i], evIDs[i] = p.run, p.evaluator
		}
		if task, err = w.Store.PlanTask(ctx, task, runIDs, evIDs); err != nil {
			return task, nil, err
		}
	}
	if _, err := w.Store.DeleteOtherGenerations(ctx, task.OrgID, task.SessionID, task.Generation); err != nil {
		return task, nil, err
	}
	existing, err := w.Store.GetRuns(ctx, task.OrgID, task.RunIDs)
	if err != nil {
		return task, nil, err
	}
	var want []string
	for i, rid := range task.RunIDs {
		if _, ok := existing[rid]; !ok && i < len(task.EvaluatorIDs) {
			want = append(want, task.EvaluatorIDs[i])
		}
	}
	if len(want) == 0 {
		return task, nil, nil
	}
	if evaluators == nil { // planned by an earlier delivery: fresh snapshots now
		if evaluators, err = w.Store.GetEvaluators(ctx, task.OrgID, want); err != nil {
			return task, nil, err
		}
	}
	now := w.Now().UTC()
	var missing []eval.Run
	for i, rid := range task.RunIDs {
		if _, ok := existing[rid]; ok || i >= len(task.EvaluatorIDs) {
			continue
		}
		r := eval.Run{
			ID: rid, OrgID: task.OrgID, SessionID: task.SessionID, EvaluatorID: task.EvaluatorIDs[i], TaskID: task.ID,
			Generation: task.Generation, Status: eval.StatusPending, CreatedAt: now, AgentID: conv.AgentID,
			Channel: conv.Channel, SessionType: conv.SessionType,
		}
		if e, ok := evaluators[r.EvaluatorID]; ok {
			r.Snapshot = snapshot(e, critical[e.ID])
		} else {
			// Planned by an earlier delivery and deleted since.
			r.Status, r.FinishedAt = eval.StatusErrored, &now
			r.ErrorText = ptr("the evaluator was deleted before its run could start")
		}
		missing = append(missing, r)
	}
	return task, missing, nil
}

func isPlanned(t eval.Task) bool { return t.Status == eval.TaskRunning || len(t.RunIDs) > 0 }

func snapshot(e eval.Evaluator, critical bool) eval.Snapshot {
	s := eval.Snapshot{Kind: e.Kind, Prompt: e.Prompt, Severity: e.Severity, Format: e.Format, Config: e.Config, IsCritical: critical}
	if e.Format == eval.FormatScore {
		t := e.Threshold
		s.Threshold = &t
	}
	return s
}

func ptr[T any](v T) *T { return &v }

// execute runs every unfinished run of the task, at most Concurrency at a
// time, and returns a *Requeue when some could not finish in this
// invocation. It first creates the missing runs: a first transaction of
// Concurrency runs, so that work starts at once, then the rest while the
// first ones run.
func (w *Worker) execute(ctx context.Context, log *slog.Logger, task eval.Task, conv eval.Conversation, turns []eval.Turn, missing []eval.Run) error {
	runs, err := w.Store.GetRuns(ctx, task.OrgID, task.RunIDs)
	if err != nil {
		return err
	}
	var (
		mu       sync.Mutex
		requeue  *Requeue
		failure  error
		progress bool
		wg       sync.WaitGroup
		jobs     = make(chan eval.Run)
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if failure == nil {
			failure = err
		}
	}
	for range max(1, w.Concurrency) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range jobs {
				err := w.runOne(ctx, log.With("run_id", r.ID, "evaluator_id", r.EvaluatorID), task, conv, turns, r)
				var rq *Requeue
				isRequeue := errors.As(err, &rq)
				mu.Lock()
				progress = progress || !isRequeue || rq.Progress
				if isRequeue && (requeue == nil || rq.Delay > requeue.Delay) {
					requeue = rq
				}
				mu.Unlock()
				if err != nil && !isRequeue {
					fail(err)
				}
			}
		}()
	}
	send := func(r eval.Run) bool {
		if r.Terminal() || r.TaskID != task.ID {
			return true
		}
		select {
		case jobs <- r:
			return true
		case <-ctx.Done():
			return false
		}
	}
	func() {
		defer close(jobs)
		for _, id := range task.RunIDs {
			if r, ok := runs[id]; ok && !send(r) {
				return
			}
		}
		first := min(len(missing), max(1, w.Concurrency))
		for _, chunk := range [][]eval.Run{missing[:first], missing[first:]} {
			if len(chunk) == 0 {
				continue
			}
			err := w.Store.CreateRuns(ctx, task, chunk)
			switch {
			case errors.Is(err, eval.ErrInProgress):
				// A concurrent delivery created them; the next delivery
				// picks up whatever it leaves.
				continue
			case err != nil:
				fail(err)
				return
			}
			for _, r := range chunk {
				if !send(r) {
					return
				}
			}
		}
	}()
	wg.Wait()
	if failure != nil {
		return failure
	}
	if requeue != nil {
		requeue.Progress = progress
		// Keep the guard for as long as the wait plus a working lease.
		if err := w.Store.ExtendLease(ctx, task, w.Now().Add(requeue.Delay+w.Lease)); err != nil {
			return err
		}
		return requeue
	}
	return nil
}

// finish records the verdict and releases the guard once every run of the
// task has ended.
func (w *Worker) finish(ctx context.Context, task eval.Task, conv eval.Conversation) error {
	runs, err := w.generation(ctx, task)
	if err != nil {
		return err
	}
	if task.Kind == eval.TaskReevaluate && len(runs) < len(task.RunIDs) {
		return &Requeue{Reason: "some planned runs are not created yet", Progress: true}
	}
	for _, r := range runs {
		if !r.Terminal() {
			return &Requeue{Reason: "run " + r.ID + " is still " + r.Status}
		}
	}
	tally(&task, runs)
	sum := eval.Summarize(runs)
	if err := w.Store.Finish(ctx, task, sum, w.Now()); err != nil {
		return err
	}
	w.Log.InfoContext(ctx, "task completed", "task_id", task.ID, "conversation_id", conv.ID,
		"total", task.Total, "completed", task.Completed, "failed", task.Failed, "errored", task.Errored, "eval_status", sum.Status)
	return nil
}

// generation returns the runs that make up the conversation's verdict after
// task: the task's own runs for a reevaluate, the whole generation (with
// the retried run read fresh) for a retry.
func (w *Worker) generation(ctx context.Context, task eval.Task) ([]eval.Run, error) {
	own, err := w.Store.GetRuns(ctx, task.OrgID, task.RunIDs)
	if err != nil {
		return nil, err
	}
	if task.Kind == eval.TaskReevaluate {
		out := make([]eval.Run, 0, len(own))
		for _, id := range task.RunIDs {
			if r, ok := own[id]; ok {
				out = append(out, r)
			}
		}
		return out, nil
	}
	all, err := w.Store.RunsOfGeneration(ctx, task.OrgID, task.SessionID, task.Generation)
	if err != nil {
		return nil, err
	}
	for i, r := range all {
		if fresh, ok := own[r.ID]; ok {
			all[i] = fresh
		}
	}
	return all, nil
}

// tally counts the task's own runs by status.
func tally(task *eval.Task, runs []eval.Run) {
	task.Total, task.Completed, task.Failed, task.Errored = 0, 0, 0, 0
	for _, r := range runs {
		if r.TaskID != task.ID {
			continue
		}
		task.Total++
		switch r.Status {
		case eval.StatusCompleted:
			task.Completed++
		case eval.StatusFailed:
			task.Failed++
		case eval.StatusErrored:
			task.Errored++
		}
	}
}
