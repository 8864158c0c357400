package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/uuid"

	"github.com/plume-evals/plume/internal/judge"
	"github.com/plume-evals/plume/internal/queue"
	"github.com/plume-evals/plume/internal/worker"
)

// The 409 is atomic: however many reevaluates race for one conversation,
// exactly one is accepted until its task releases the guard.
//
// moto runs single-threaded (see internal/testenv), which makes it
// trustworthy here despite its table-restore race; the handlers still race
// for real: each request's calls interleave with the others', so a guard
// implemented as read-then-write would accept several per round.
func TestConcurrentReevaluateOneWinnerPerRound(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	conv := f.conversation(uuid.NewString(), "active", 2)
	const rounds, racers = 20, 50
	for round := range rounds {
		codes := f.race(racers, func(int) string { return "/v1/v2/conversations/" + conv + "/reevaluate" })
		if codes[202] != 1 || codes[409] != racers-1 || len(codes) != 2 {
			t.Fatalf("round %d: statuses %v, want exactly one 202 and %d × 409", round, codes, racers-1)
		}
		tasks := f.release(1)
		c, _ := f.store.GetConversation(context.Background(), f.org, conv)
		if c.Guard.ActiveTask != "" || c.Guard.Generation != tasks[0] {
			t.Fatalf("round %d: guard %+v after its task %s finished", round, c.Guard, tasks[0])
		}
	}
}

func TestConcurrentReevaluateAcrossConversations(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const convs, perConv = 20, 5
	ids := make([]string, convs)
	for i := range ids {
		ids[i] = f.conversation(uuid.NewString(), "active", 1)
	}
	// 100 requests, interleaved: conversation i%20.
	codes := f.race(convs*perConv, func(i int) string { return "/v1/sessions/" + ids[i%convs] + "/reevaluate" })
	if codes[202] != convs || codes[409] != convs*(perConv-1) {
		t.Fatalf("statuses %v, want %d × 202 (one per conversation) and %d × 409", codes, convs, convs*(perConv-1))
	}
	tasks := f.release(convs)
	seen := map[string]bool{}
	for _, id := range ids {
		c, _ := f.store.GetConversation(context.Background(), f.org, id)
		if seen[c.Guard.Generation] || c.Guard.ActiveTask != "" {
			t.Fatalf("conversation %s: guard %+v", id, c.Guard)
		}
		seen[c.Guard.Generation] = true
	}
	if len(tasks) != convs {
		t.Fatalf("tasks = %d", len(tasks))
	}
}

// race sends n reevaluates at once and counts statuses.
func (f *fixture) race(n int, path func(i int) string) map[int]int {
	f.t.Helper()
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			code, body := f.do("POST", path(i), nil)
			if code != 202 && code != 409 {
				f.t.Errorf("unexpected %d %s", code, body)
			}
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return codes
}

// release runs the worker on the queued tasks (no evaluators are bound, so
// each completes at once) and checks that exactly want messages were
// queued: one per 202, none per 409.
func (f *fixture) release(want int) []string {
	f.t.Helper()
	ctx := context.Background()
	w := worker.New(f.store, judge.Set{}, judge.DefaultPrices(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	w.Now = func() time.Time { return f.now }
	h := &worker.Handler{Worker: w}
	var tasks []string
	for {
		out, err := f.env.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(f.env.QueueURL), MaxNumberOfMessages: 10})
		if err != nil {
			f.t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			break
		}
		var ev events.SQSEvent
		for _, m := range out.Messages {
			msg, err := queue.Decode(*m.Body)
			if err != nil {
				f.t.Fatal(err)
			}
			tasks = append(tasks, msg.TaskID)
			ev.Records = append(ev.Records, events.SQSMessage{MessageId: *m.MessageId, Body: *m.Body})
			_, _ = f.env.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(f.env.QueueURL), ReceiptHandle: m.ReceiptHandle})
		}
		resp, _ := h.Handle(ctx, ev)
		if len(resp.BatchItemFailures) > 0 {
			f.t.Fatalf("worker failed: %+v", resp)
		}
	}
	if len(tasks) != want {
		f.t.Fatalf("queued messages = %d (%s), want %d", len(tasks), fmt.Sprint(tasks), want)
	}
	return tasks
}
