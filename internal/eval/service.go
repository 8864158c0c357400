package eval

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Guards is the storage the task services need. Each Begin is one atomic
// write: it takes the conversation's guard, or fails without changing
// anything.
type Guards interface {
	// BeginReevaluate takes the guard of task.SessionID for task (when it is
	// free or its lease has passed), makes task.ID the visible generation,
	// so the earlier runs are never shown again, and records the task.
	// It returns ErrNotFound or ErrInProgress.
	BeginReevaluate(ctx context.Context, task Task, now, leaseUntil time.Time) error
	// BeginRetry takes the free guard of run's conversation for task, puts
	// the run back to pending under task and records the task. It returns
	// ErrNotFound (also for a run of an earlier generation), ErrNotRetryable
	// or ErrInProgress.
	BeginRetry(ctx context.Context, task Task, run Run, now, leaseUntil time.Time) error
	// Abort undoes a Begin whose task could not be queued, conditioned on
	// the guard still being held by task: the previous generation (or the
	// run's previous status) comes back and the guard is free.
	Abort(ctx context.Context, task Task) error
	// GetRun returns a run of the organization; ErrNotFound.
	GetRun(ctx context.Context, orgID, runID string) (Run, error)
}

// Sender hands a task to the workers. It returns an error only when the
// task could not be queued after retries.
type Sender interface {
	Send(ctx context.Context, task Task) error
}

// Service accepts reevaluate and retry requests.
type Service struct {
	Guards Guards
	Queue  Sender
	Lease  time.Duration
	Now    func() time.Time
	NewID  func() string
	Log    *slog.Logger
}

// Reevaluate wipes the conversation's runs (by starting a new generation)
// and queues a task that re-runs every evaluator bound now. It returns
// ErrNotFound, ErrInProgress or ErrUnavailable (nothing stays locked).
func (s *Service) Reevaluate(ctx context.Context, orgID, sessionID string) (Task, error) {
	now := s.Now().UTC()
	id := s.NewID()
	task := Task{
		ID: id, OrgID: orgID, SessionID: sessionID, Kind: TaskReevaluate,
		Status: TaskQueued, Generation: id, CreatedAt: now,
	}
	if err := s.Guards.BeginReevaluate(ctx, task, now, now.Add(s.Lease)); err != nil {
		return Task{}, err
	}
	return task, s.send(ctx, task)
}

// Retry re-runs one failed or errored run with its own snapshot. It returns
// ErrNotFound, ErrNotRetryable, ErrInProgress or ErrUnavailable.
func (s *Service) Retry(ctx context.Context, orgID, runID string) (Task, error) {
	run, err := s.Guards.GetRun(ctx, orgID, runID)
	if err != nil {
		return Task{}, err
	}
	switch {
	case !IsTerminal(run.Status):
		return Task{}, Errorf(ErrInProgress, "run %s is %s: an evaluation of its conversation is in progress", runID, run.Status)
	case !retryable(run.Status):
		return Task{}, Errorf(ErrNotRetryable, "run %s is %s; only failed or errored runs can be retried", runID, run.Status)
	}
	now := s.Now().UTC()
	task := Task{
		ID: s.NewID(), OrgID: orgID, SessionID: run.SessionID, Kind: TaskRetry,
		Status: TaskQueued, Generation: run.Generation, RunID: run.ID,
		RunIDs: []string{run.ID}, CreatedAt: now, Total: 1,
	}
	if err := s.Guards.BeginRetry(ctx, task, run, now, now.Add(s.Lease)); err != nil {
		return Task{}, err
	}
	return task, s.send(ctx, task)
}

func retryable(status string) bool { return status == StatusFailed || status == StatusErrored }

// send queues task; when that fails it gives the guard back so the
// conversation is never left locked with nothing queued.
func (s *Service) send(ctx context.Context, task Task) error {
	err := s.Queue.Send(ctx, task)
	if err == nil {
		return nil
	}
	log := s.Log.With("task_id", task.ID, "conversation_id", task.SessionID)
	log.ErrorContext(ctx, "queue send failed; releasing the guard", "err", err)
	// The request may be cancelled; the undo must still happen.
	undoCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if aerr := s.Guards.Abort(undoCtx, task); aerr != nil && !errors.Is(aerr, ErrNotFound) {
		// The lease still bounds the lock: the sweeper or the next
		// reevaluate ends it.
		log.ErrorContext(ctx, "guard release failed; the lease will expire it", "err", aerr)
	}
	return Errorf(ErrUnavailable, "the evaluation could not be queued; nothing was changed, try again")
}
