package worker

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plume-evals/plume/internal/eval"
)

func TestEMFLine(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	m := &emf{w: &buf}
	m.run(eval.Run{ID: "r", TaskID: "t", SessionID: "c", EvaluatorID: "e", Status: eval.StatusCompleted, Attempts: 2,
		LatencyMS: 812, InputTokens: 1200, OutputTokens: 80, CostUSD: 0.000228, Snapshot: eval.Snapshot{Kind: eval.KindModelJudge}},
		time.UnixMilli(1764849600000))
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("not one JSON line: %q", buf.String())
	}
	aws := got["_aws"].(map[string]any)
	cw := aws["CloudWatchMetrics"].([]any)[0].(map[string]any)
	if aws["Timestamp"] != 1764849600000.0 || cw["Namespace"] != "Plume" {
		t.Errorf("_aws = %v", aws)
	}
	// Every declared metric and dimension is present as a top-level member.
	for _, d := range cw["Dimensions"].([]any)[0].([]any) {
		if _, ok := got[d.(string)]; !ok {
			t.Errorf("dimension %s missing", d)
		}
	}
	for _, mt := range cw["Metrics"].([]any) {
		if _, ok := got[mt.(map[string]any)["Name"].(string)]; !ok {
			t.Errorf("metric %v missing", mt)
		}
	}
	want := map[string]any{"Kind": "model_judge", "Status": "completed", "Attempts": 2.0, "LatencyMS": 812.0, "InputTokens": 1200.0, "CostUSD": 0.000228}
	for k, v := range want {
		if diff := cmp.Diff(v, got[k]); diff != "" {
			t.Errorf("%s: %s", k, diff)
		}
	}
	var none *emf
	none.run(eval.Run{}, time.Now()) // metrics off: no panic, no output
}
