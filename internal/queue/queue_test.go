package queue

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/plume-evals/plume/internal/eval"
)

const (
	org  = "00000000-0000-4000-8000-000000000001"
	conv = "00000000-0000-4000-8000-0000000000c1"
	task = "7d9f3c1e-2b4a-4c8e-9f1a-0b2c3d4e5f60"
	run  = "1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tk := range []eval.Task{
		{ID: task, OrgID: org, SessionID: conv, Kind: eval.TaskReevaluate},
		{ID: task, OrgID: org, SessionID: conv, Kind: eval.TaskRetry, RunID: run, RunIDs: []string{run}},
	} {
		got, err := Decode(FromTask(tk).Encode())
		if err != nil {
			t.Fatalf("Decode(Encode(%v)): %v", tk, err)
		}
		if diff := cmp.Diff(tk, got.Task()); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"empty":          ``,
		"not json":       `hello`,
		"array":          `[]`,
		"unknown field":  `{"v":1,"kind":"reevaluate","organization_id":"` + org + `","session_id":"` + conv + `","task_id":"` + task + `","x":1}`,
		"wrong version":  `{"v":2,"kind":"reevaluate","organization_id":"` + org + `","session_id":"` + conv + `","task_id":"` + task + `"}`,
		"bad kind":       `{"v":1,"kind":"delete","organization_id":"` + org + `","session_id":"` + conv + `","task_id":"` + task + `"}`,
		"bad uuid":       `{"v":1,"kind":"reevaluate","organization_id":"x","session_id":"` + conv + `","task_id":"` + task + `"}`,
		"upper uuid":     `{"v":1,"kind":"reevaluate","organization_id":"` + org + `","session_id":"` + conv + `","task_id":"7D9F3C1E-2B4A-4C8E-9F1A-0B2C3D4E5F60"}`,
		"retry no run":   `{"v":1,"kind":"retry","organization_id":"` + org + `","session_id":"` + conv + `","task_id":"` + task + `"}`,
		"reeval run":     `{"v":1,"kind":"reevaluate","organization_id":"` + org + `","session_id":"` + conv + `","task_id":"` + task + `","run_id":"` + run + `"}`,
		"trailing":       `{"v":1,"kind":"reevaluate","organization_id":"` + org + `","session_id":"` + conv + `","task_id":"` + task + `"} {}`,
		"missing fields": `{"v":1}`,
	} {
		if _, err := Decode(body); !errors.Is(err, ErrBadMessage) {
			t.Errorf("%s: Decode = %v, want ErrBadMessage", name, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(FromTask(eval.Task{ID: task, OrgID: org, SessionID: conv, Kind: eval.TaskReevaluate}).Encode())
	f.Add(FromTask(eval.Task{ID: task, OrgID: org, SessionID: conv, Kind: eval.TaskRetry, RunID: run}).Encode())
	f.Add(`{"v":1}`)
	f.Fuzz(func(t *testing.T, body string) {
		m, err := Decode(body)
		if err != nil {
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("error of unknown kind: %v", err)
			}
			return
		}
		// Whatever decodes re-encodes to something that decodes the same.
		again, err := Decode(m.Encode())
		if err != nil || again != m {
			t.Fatalf("re-decode %+v: %+v, %v", m, again, err)
		}
	})
}
