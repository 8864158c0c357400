package worker_test

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/plume-evals/plume/internal/eval"
	"github.com/plume-evals/plume/internal/judge"
	"github.com/plume-evals/plume/internal/judge/judgetest"
	"github.com/plume-evals/plume/internal/store"
	"github.com/plume-evals/plume/internal/testenv"
	"github.com/plume-evals/plume/internal/worker"
)

// opCounter counts DynamoDB operations by name.
type opCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *opCounter) middleware(s *middleware.Stack) error {
	return s.Initialize.Add(middleware.InitializeMiddlewareFunc("plume-count",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.mu.Lock()
			c.n[middleware.GetOperationName(ctx)]++
			c.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

func (c *opCounter) writes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := 0
	for op, n := range c.n {
		switch op {
		case "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems":
			w += n
		}
	}
	return w
}

func (c *opCounter) reset() {
	c.mu.Lock()
	c.n = map[string]int{}
	c.mu.Unlock()
}

// countedFixture is a fixture whose store's client counts operations.
func countedFixture(t testing.TB, script ...judgetest.Step) (*fixture, *opCounter) {
	f := newFixture(t, script...)
	c := &opCounter{n: map[string]int{}}
	cfg := testenv.Config(testenv.Endpoint(t))
	cfg.APIOptions = append(cfg.APIOptions, c.middleware)
	counted := store.New(dynamodb.NewFromConfig(cfg), f.env.Table)
	f.w.Store = counted
	return f, c
}

// The goal of issue 3: at most 2 DynamoDB write requests per run, plus a
// constant per task.
func TestWritesPerRun(t *testing.T) {
	t.Parallel()
	perTask := map[int]int{}
	for _, n := range []int{5, 25} {
		f, c := countedFixture(t)
		for range n {
			f.regexEvaluator(false)
		}
		conv := f.conversation(2)
		f.reevaluate(conv)
		c.reset()
		f.drain(3)
		if st := byStatus(f.runs(conv)); st[eval.StatusCompleted] != n {
			t.Fatalf("%d evaluators: %v", n, st)
		}
		perTask[n] = c.writes()
		t.Logf("%d runs: %d DynamoDB writes (%v)", n, c.writes(), c.n)
	}
	slope := float64(perTask[25]-perTask[5]) / 20
	constant := perTask[5] - int(slope*5)
	if slope > 2 {
		t.Errorf("writes per run = %.2f, want at most 2", slope)
	}
	if constant > 6 {
		t.Errorf("writes per task = %d, want a small constant", constant)
	}
	t.Logf("writes per run %.2f, per task %d", slope, constant)
}

// BenchmarkThroughput: a judge of fixed latency L and worker concurrency
// C; the ideal is C/L runs per second. Each op is one task of 10·C runs.
// Two rates: "runs/s" over the run phase (first judge call to last judge
// answer: what C and L govern), and "e2e-runs/s" over the whole delivery,
// which adds the task's constant planning and finishing.
func BenchmarkThroughput(b *testing.B) {
	for _, c := range []struct {
		latency time.Duration
		conc    int
	}{{250 * time.Millisecond, 4}, {time.Second, 4}, {time.Second, 8}} {
		b.Run(fmt.Sprintf("L=%s/C=%d", c.latency, c.conc), func(b *testing.B) {
			runs := 10 * c.conc
			f := newFixture(b, judgetest.Score(0.9, "ok").After(c.latency))
			f.w.Concurrency = c.conc
			timed := &timingJudges{inner: f.w.Judges}
			f.w.Judges = timed
			for range runs {
				f.judgeEvaluator(false)
			}
			var total, phase, before, after time.Duration
			for b.Loop() {
				conv := f.conversation(4)
				f.reevaluate(conv)
				timed.reset()
				start := time.Now()
				f.drain(3)
				end := time.Now()
				total += end.Sub(start)
				phase += timed.span()
				before += timed.first.Sub(start)
				after += end.Sub(timed.last)
				if st := byStatus(f.runs(conv)); st[eval.StatusCompleted] != runs {
					b.Fatalf("runs: %v", st)
				}
			}
			ideal := float64(c.conc) / c.latency.Seconds()
			perSec := float64(runs*b.N) / phase.Seconds()
			b.ReportMetric(perSec, "runs/s")
			b.ReportMetric(perSec/ideal*100, "%-of-C/L")
			e2e := float64(runs*b.N) / total.Seconds()
			b.ReportMetric(e2e, "e2e-runs/s")
			b.ReportMetric(e2e/ideal*100, "e2e-%-of-C/L")
			b.ReportMetric(float64(before.Milliseconds())/float64(b.N), "plan-ms")
			b.ReportMetric(float64(after.Milliseconds())/float64(b.N), "finish-ms")
		})
	}
}

// timingJudges records when the first judge call started and the last
// one answered.
type timingJudges struct {
	inner       worker.Judges
	mu          sync.Mutex
	first, last time.Time
}

func (t *timingJudges) reset() {
	t.mu.Lock()
	t.first, t.last = time.Time{}, time.Time{}
	t.mu.Unlock()
}

func (t *timingJudges) span() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last.Sub(t.first)
}

func (t *timingJudges) For(name string) (judge.Provider, error) {
	p, err := t.inner.For(name)
	if err != nil {
		return nil, err
	}
	return timedProvider{p, t}, nil
}

type timedProvider struct {
	judge.Provider
	t *timingJudges
}

func (p timedProvider) Judge(ctx context.Context, req judge.Request) (judge.Verdict, error) {
	start := time.Now()
	p.t.mu.Lock()
	if p.t.first.IsZero() {
		p.t.first = start
	}
	p.t.mu.Unlock()
	v, err := p.Provider.Judge(ctx, req)
	p.t.mu.Lock()
	p.t.last = time.Now()
	p.t.mu.Unlock()
	return v, err
}

// BenchmarkWorkerCPUPerRun: this process's CPU time per run (moto runs in
// another process; the judge is an in-process stub that answers at once),
// so it is the worker's own work: planning, snapshots, SDK encoding.
func BenchmarkWorkerCPUPerRun(b *testing.B) {
	const runs = 20
	f := newFixture(b)
	f.w.Judges = judge.Set{OpenAI: instantJudge{}}
	for range runs / 2 {
		f.judgeEvaluator(false)
		f.regexEvaluator(false)
	}
	var cpu time.Duration
	for b.Loop() {
		conv := f.conversation(8)
		f.reevaluate(conv)
		before := cpuTime()
		f.drain(3)
		cpu += cpuTime() - before
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(runs*b.N), "cpu-µs/run")
}

type instantJudge struct{}

func (instantJudge) Judge(_ context.Context, req judge.Request) (judge.Verdict, error) {
	s := 0.8
	return judge.Verdict{Score: &s, Rationale: "stub", InputTokens: 500, OutputTokens: 40, Model: req.Model}, nil
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
