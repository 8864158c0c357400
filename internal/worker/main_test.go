package worker_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/uuid"

	"github.com/plume-evals/plume/internal/devstack"
	"github.com/plume-evals/plume/internal/eval"
	"github.com/plume-evals/plume/internal/judge"
	"github.com/plume-evals/plume/internal/judge/judgetest"
	"github.com/plume-evals/plume/internal/queue"
	"github.com/plume-evals/plume/internal/store"
	"github.com/plume-evals/plume/internal/testenv"
	"github.com/plume-evals/plume/internal/worker"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// fixture is one test's worker on its own table and queues, with a local
// OpenAI-compatible judge.
type fixture struct {
	t        testing.TB
	env      testenv.Env
	st       *store.Store
	svc      *eval.Service
	w        *worker.Worker
	h        *worker.Handler
	judge    *judgetest.Server
	queueARN string
	org      string
	agent    string

	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFixture(t testing.TB, script ...judgetest.Step) *fixture {
	t.Helper()
	env := testenv.New(t)
	f := &fixture{t: t, env: env, st: store.New(env.DDB, env.Table), org: uuid.NewString(), agent: uuid.NewString(),
		now: time.Now().UTC()}
	f.judge = judgetest.NewOpenAI(t, script...)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.svc = &eval.Service{Guards: f.st, Queue: queue.NewSender(env.SQS, env.QueueURL), Lease: 15 * time.Minute,
		Now: f.clock, NewID: uuid.NewString, Log: log}
	f.w = worker.New(f.st, judge.Set{OpenAI: judge.NewOpenAI("test-key", f.judge.URL, nil)}, judge.DefaultPrices(), log)
	f.w.Now, f.w.MaxAttempts, f.w.JudgeTimeout, f.w.Margin = f.clock, 3, 2*time.Second, time.Second
	f.w.Sleep = func(_ context.Context, d time.Duration) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.sleeps = append(f.sleeps, d)
		return nil
	}
	f.h = &worker.Handler{Worker: f.w, DLQARN: env.DLQARN}
	arn, err := devstack.QueueARN(context.Background(), env.SQS, env.QueueURL)
	if err != nil {
		t.Fatal(err)
	}
	f.queueARN = arn
	return f
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// bind creates an evaluator and binds it to the fixture's agent.
func (f *fixture) bind(kind, format string, cfg map[string]any, critical bool) eval.Evaluator {
	f.t.Helper()
	ctx := context.Background()
	e := eval.Evaluator{ID: uuid.NewString(), OrgID: f.org, Name: kind, Kind: kind, Format: format, Severity: "medium",
		Prompt: "Grade the agent's helpfulness.", Threshold: 0.7, Config: cfg, Status: eval.EvaluatorActive,
		CreatedAt: f.clock(), UpdatedAt: f.clock()}
	if err := f.st.PutEvaluator(ctx, e, true); err != nil {
		f.t.Fatal(err)
	}
	b := eval.Binding{ID: uuid.NewString(), OrgID: f.org, EvaluatorID: e.ID, Scope: eval.ScopeAgent, AgentID: f.agent,
		IsCritical: critical, CreatedAt: f.clock()}
	if err := f.st.CreateBinding(ctx, b); err != nil {
		f.t.Fatal(err)
	}
	return e
}

func (f *fixture) judgeEvaluator(critical bool) eval.Evaluator {
	return f.bind(eval.KindModelJudge, eval.FormatScore, map[string]any{"provider": "openai", "model": "gpt-4o-mini"}, critical)
}

func (f *fixture) regexEvaluator(critical bool) eval.Evaluator {
	return f.bind(eval.KindRegex, eval.FormatBoolean, map[string]any{"pattern": "(?i)refund", "target": "assistant", "must_match": false}, critical)
}

// conversation stores a closed conversation of the fixture's agent.
func (f *fixture) conversation(n int) string {
	f.t.Helper()
	id := uuid.NewString()
	turns := make([]eval.Turn, n)
	for i := range turns {
		role := "user"
		if i%2 == 1 {
			role = "assistant"
		}
		turns[i] = eval.Turn{ID: eval.TurnID(id, i), SessionID: id, Seq: i, Role: role, Content: "turn text", CreatedAt: f.clock()}
	}
	_, err := f.st.PutConversation(context.Background(), eval.Conversation{ID: id, OrgID: f.org, AgentID: f.agent,
		SessionType: eval.SessionLive, Channel: "chat", Status: "closed", CreatedAt: f.clock(), UpdatedAt: f.clock(),
		MessageCount: n}, turns)
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

func (f *fixture) reevaluate(conv string) eval.Task {
	f.t.Helper()
	task, err := f.svc.Reevaluate(context.Background(), f.org, conv)
	if err != nil {
		f.t.Fatalf("reevaluate: %v", err)
	}
	return task
}

// receive takes the queued messages as SQS events of the eval queue.
func (f *fixture) receive() []events.SQSMessage {
	f.t.Helper()
	out, err := f.env.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(f.env.QueueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 0,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
	})
	if err != nil {
		f.t.Fatal(err)
	}
	var recs []events.SQSMessage
	for _, m := range out.Messages {
		recs = append(recs, events.SQSMessage{MessageId: *m.MessageId, ReceiptHandle: *m.ReceiptHandle, Body: *m.Body,
			Attributes: m.Attributes, EventSourceARN: f.queueARN, EventSource: "aws:sqs"})
	}
	return recs
}

// handle invokes the handler like the Lambda service: with a deadline,
// deleting the messages it did not report, making the failed ones visible
// again at once (as if their visibility timeout had passed).
func (f *fixture) handle(recs []events.SQSMessage, timeout time.Duration) events.SQSEventResponse {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	resp, err := f.h.Handle(ctx, events.SQSEvent{Records: recs})
	if err != nil {
		f.t.Fatalf("Handle returned an error: %v", err)
	}
	failed := map[string]bool{}
	for _, fl := range resp.BatchItemFailures {
		failed[fl.ItemIdentifier] = true
	}
	for _, r := range recs {
		if failed[r.MessageId] {
			_, _ = f.env.SQS.ChangeMessageVisibility(context.Background(), &sqs.ChangeMessageVisibilityInput{
				QueueUrl: aws.String(f.env.QueueURL), ReceiptHandle: aws.String(r.ReceiptHandle), VisibilityTimeout: 0})
			continue
		}
		_, _ = f.env.SQS.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(f.env.QueueURL), ReceiptHandle: aws.String(r.ReceiptHandle)})
	}
	return resp
}

// drain delivers until the queue is empty (at most n rounds).
func (f *fixture) drain(n int) {
	f.t.Helper()
	for range n {
		recs := f.receive()
		if len(recs) == 0 {
			return
		}
		f.handle(recs, time.Minute)
	}
	f.t.Fatalf("queue not drained after %d deliveries", n)
}

func (f *fixture) conv(id string) eval.Conversation {
	f.t.Helper()
	c, err := f.st.GetConversation(context.Background(), f.org, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// runs returns the visible runs of a conversation.
func (f *fixture) runs(conv string) []eval.Run {
	f.t.Helper()
	c := f.conv(conv)
	rs, err := f.st.RunsOfGeneration(context.Background(), f.org, conv, c.Guard.Generation)
	if err != nil {
		f.t.Fatal(err)
	}
	return rs
}

func (f *fixture) task(id string) eval.Task {
	f.t.Helper()
	tk, err := f.st.GetTask(context.Background(), f.org, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return tk
}

func byEvaluator(rs []eval.Run) map[string]eval.Run {
	m := map[string]eval.Run{}
	for _, r := range rs {
		m[r.EvaluatorID] = r
	}
	return m
}
