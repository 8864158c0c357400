package eval

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"
)

// fakeGuards records calls; the real adapter is tested against moto in
// internal/store and internal/api.
type fakeGuards struct {
	beginErr error
	run      Run
	aborted  []Task
	begun    []Task
}

func (g *fakeGuards) BeginReevaluate(_ context.Context, t Task, _, _ time.Time) error {
	g.begun = append(g.begun, t)
	return g.beginErr
}
func (g *fakeGuards) BeginRetry(_ context.Context, t Task, _ Run, _, _ time.Time) error {
	g.begun = append(g.begun, t)
	return g.beginErr
}
func (g *fakeGuards) Abort(_ context.Context, t Task) error {
	g.aborted = append(g.aborted, t)
	return nil
}
func (g *fakeGuards) GetRun(context.Context, string, string) (Run, error) {
	if g.run.ID == "" {
		return Run{}, ErrNotFound
	}
	return g.run, nil
}

type fakeSender struct{ err error }

func (s fakeSender) Send(context.Context, Task) error { return s.err }

func service(g Guards, s Sender) *Service {
	n := 0
	return &Service{Guards: g, Queue: s, Lease: time.Minute, Now: time.Now,
		NewID: func() string { n++; return [...]string{"", "task-1", "task-2"}[n] },
		Log:   slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func TestReevaluate(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name      string
		beginErr  error
		sendErr   error
		want      error
		wantAbort bool
	}{
		{"accepted", nil, nil, nil, false},
		{"in progress", ErrInProgress, nil, ErrInProgress, false},
		{"not found", ErrNotFound, nil, ErrNotFound, false},
		{"send fails: guard undone, 503", nil, errors.New("sqs down"), ErrUnavailable, true},
	} {
		g := &fakeGuards{beginErr: c.beginErr}
		task, err := service(g, fakeSender{c.sendErr}).Reevaluate(context.Background(), "org", "conv")
		if !sameKind(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
		if got := len(g.aborted) == 1; got != c.wantAbort {
			t.Errorf("%s: aborted = %v, want %v", c.name, g.aborted, c.wantAbort)
		}
		if err == nil && (task.ID != "task-1" || task.Generation != task.ID || task.Kind != TaskReevaluate || task.Status != TaskQueued) {
			t.Errorf("%s: task = %+v", c.name, task)
		}
	}
}

func TestRetryRefusesRunsInOtherStates(t *testing.T) {
	t.Parallel()
	for status, want := range map[string]error{
		StatusCompleted: ErrNotRetryable, StatusPending: ErrInProgress, StatusRunning: ErrInProgress,
		StatusFailed: nil, StatusErrored: nil,
	} {
		g := &fakeGuards{run: Run{ID: "r", SessionID: "c", Generation: "g", Status: status}}
		task, err := service(g, fakeSender{}).Retry(context.Background(), "org", "r")
		if !sameKind(err, want) {
			t.Errorf("retry of a %s run: %v, want %v", status, err, want)
		}
		if err == nil && (task.RunID != "r" || task.Generation != "g" || task.Kind != TaskRetry || len(g.begun) != 1) {
			t.Errorf("retry task = %+v", task)
		}
	}
	if _, err := service(&fakeGuards{}, fakeSender{}).Retry(context.Background(), "org", "missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("retry of a missing run: %v", err)
	}
}

// sameKind reports whether err is of kind want (nil: no error).
func sameKind(err, want error) bool {
	if want == nil {
		return err == nil
	}
	return errors.Is(err, want)
}
