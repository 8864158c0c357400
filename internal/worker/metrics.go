package worker

import (
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/plume-evals/plume/internal/eval"
)

// emf writes one CloudWatch Embedded Metric Format line per ended run, so
// judge latency, tokens and cost are metrics without a PutMetricData call.
type emf struct {
	mu sync.Mutex
	w  io.Writer
}

var runMetrics = []map[string]string{
	{"Name": "Runs", "Unit": "Count"},
	{"Name": "Attempts", "Unit": "Count"},
	{"Name": "LatencyMS", "Unit": "Milliseconds"},
	{"Name": "InputTokens", "Unit": "Count"},
	{"Name": "OutputTokens", "Unit": "Count"},
	{"Name": "CostUSD", "Unit": "None"},
}

// run emits the metrics of an ended run, dimensioned by evaluator kind and
// status.
func (m *emf) run(r eval.Run, now time.Time) {
	if m == nil || m.w == nil {
		return
	}
	line := map[string]any{
		"_aws": map[string]any{
			"Timestamp": now.UnixMilli(),
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace":  "Plume",
				"Dimensions": [][]string{{"Kind", "Status"}},
				"Metrics":    runMetrics,
			}},
		},
		"Kind": r.Snapshot.Kind, "Status": r.Status,
		"Runs": 1, "Attempts": r.Attempts, "LatencyMS": r.LatencyMS,
		"InputTokens": r.InputTokens, "OutputTokens": r.OutputTokens, "CostUSD": r.CostUSD,
		"task_id": r.TaskID, "run_id": r.ID, "conversation_id": r.SessionID, "evaluator_id": r.EvaluatorID,
	}
	b, err := json.Marshal(line)
	if err != nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, _ = m.w.Write(append(b, '\n'))
}
