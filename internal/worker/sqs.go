package worker

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/plume-evals/plume/internal/eval"
	"github.com/plume-evals/plume/internal/queue"
)

// Visibility changes when a handed-back message is delivered again
// (SQS ChangeMessageVisibility); nil leaves it to the queue's timeout.
type Visibility interface {
	Delay(ctx context.Context, receiptHandle string, d time.Duration) error
}

// Continuer queues a fresh message for a task after delay (queue.Sender).
type Continuer interface {
	SendAfter(ctx context.Context, t eval.Task, delay time.Duration) error
}

// Handler is the SQS Lambda handler of the eval queue and its dead-letter
// queue.
type Handler struct {
	Worker     *Worker
	DLQARN     string
	Visibility Visibility
	// Continue, when set, hands back a task that made progress as a fresh
	// message, so a long task's deliveries never count toward the
	// dead-letter queue's maxReceiveCount; only deliveries that fail or
	// make no progress do.
	Continue Continuer
}

// Handle processes a batch one message at a time and reports exactly the
// messages that must come back in BatchItemFailures. It never fails the
// whole batch and never panics the process.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, rec := range ev.Records {
		if err := h.one(ctx, rec); err != nil {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return resp, nil
}

func (h *Handler) one(ctx context.Context, rec events.SQSMessage) (err error) {
	log := h.Worker.Log.With("message_id", rec.MessageId)
	defer func() {
		if v := recover(); v != nil {
			log.ErrorContext(ctx, "panic while handling a message; it will be retried", "panic", v)
			err = errors.New("panic")
		}
	}()
	m, err := queue.Decode(rec.Body)
	if err != nil {
		// It can never succeed; retrying would only move it to the DLQ.
		log.ErrorContext(ctx, "dropping a malformed message", "err", err, "body_bytes", len(rec.Body))
		return nil
	}
	task := m.Task()
	if h.DLQARN != "" && rec.EventSourceARN == h.DLQARN {
		n, _ := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
		return h.Worker.Abandon(ctx, task, "the task was moved to the dead-letter queue after failing "+
			strconv.Itoa(max(n-1, 1))+" deliveries")
	}
	err = h.Worker.Run(ctx, task)
	var rq *Requeue
	if errors.As(err, &rq) {
		log.InfoContext(ctx, "task handed back", "task_id", task.ID, "delay", rq.Delay, "reason", rq.Reason, "progress", rq.Progress)
		if rq.Progress && h.Continue != nil && rq.Delay <= maxDelay {
			cerr := h.Continue.SendAfter(ctx, task, rq.Delay)
			if cerr == nil {
				return nil // this message is done; the continuation carries on
			}
			log.WarnContext(ctx, "could not queue the continuation; the message comes back instead", "err", cerr)
		}
		if h.Visibility != nil {
			d := min(max(rq.Delay, time.Second), 12*time.Hour)
			if verr := h.Visibility.Delay(ctx, rec.ReceiptHandle, d); verr != nil {
				log.WarnContext(ctx, "could not set the message's visibility", "err", verr)
			}
		}
		return err
	}
	if err != nil {
		log.ErrorContext(ctx, "task failed; it will be retried", "task_id", task.ID, "err", err)
	}
	return err
}

// maxDelay is SQS's longest DelaySeconds.
const maxDelay = 15 * time.Minute

// Abandon ends every unfinished run of a task errored with reason, records
// the verdict and releases the guard, if the task still holds it.
func (w *Worker) Abandon(ctx context.Context, ref eval.Task, reason string) error {
	log := w.Log.With("task_id", ref.ID, "conversation_id", ref.SessionID)
	task, err := w.Store.GetTask(ctx, ref.OrgID, ref.ID)
	if errors.Is(err, eval.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	conv, err := w.Store.GetConversation(ctx, task.OrgID, task.SessionID)
	if errors.Is(err, eval.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if conv.Guard.ActiveTask != task.ID {
		return nil
	}
	runs, err := w.Store.GetRuns(ctx, task.OrgID, task.RunIDs)
	if err != nil {
		return err
	}
	for _, id := range task.RunIDs {
		r, ok := runs[id]
		if !ok || r.Terminal() || r.TaskID != task.ID {
			continue
		}
		w.end(&r, eval.StatusErrored, reason)
		if err := w.Store.SaveRun(ctx, r); err != nil && !errors.Is(err, eval.ErrStale) {
			return err
		}
	}
	log.WarnContext(ctx, "task abandoned", "reason", reason)
	return ignoreStale(ctx, log, w.finish(ctx, task, conv))
}

// Sweep abandons the tasks whose lease has expired (their worker died or
// gave up) and returns how many it released.
func (w *Worker) Sweep(ctx context.Context) (int, error) {
	now := w.Now()
	convs, err := w.Store.Expired(ctx, now, 50)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, c := range convs {
		task := eval.Task{ID: c.Guard.ActiveTask, OrgID: c.OrgID, SessionID: c.ID}
		reason := "abandoned: the task's lease expired at " + c.Guard.LeaseUntil.UTC().Format(time.RFC3339) + " before it finished"
		if err := w.Abandon(ctx, task, reason); err != nil {
			errs = append(errs, err) // the next sweep tries again
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}
