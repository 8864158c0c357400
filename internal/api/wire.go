package api

import (
	"encoding/json"
	"time"

	"github.com/plume-evals/plume/internal/eval"
)

// The JSON shapes of responses; their names follow openapi.json.

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func tsp(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := ts(*t)
	return &s
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

type listResponse[T any] struct {
	Items      []T     `json:"items"`
	HasMore    bool    `json:"has_more"`
	NextCursor *string `json:"next_cursor"`
}

func list[T, D any](items []D, next string, conv func(D) T) listResponse[T] {
	out := listResponse[T]{Items: make([]T, 0, len(items)), HasMore: next != "", NextCursor: nullable(next)}
	for _, it := range items {
		out.Items = append(out.Items, conv(it))
	}
	return out
}

type taskAccepted struct {
	TaskID string `json:"task_id"`
	Status string `json:"status"`
}

type taskJSON struct {
	TaskID     string  `json:"task_id"`
	SessionID  string  `json:"session_id"`
	Kind       string  `json:"kind"`
	Status     string  `json:"status"`
	Total      int     `json:"total"`
	Completed  int     `json:"completed"`
	Failed     int     `json:"failed"`
	Errored    int     `json:"errored"`
	Pending    int     `json:"pending"`
	CreatedAt  string  `json:"created_at"`
	FinishedAt *string `json:"finished_at"`
}

func toTask(t eval.Task) taskJSON {
	return taskJSON{t.ID, t.SessionID, t.Kind, t.Status, t.Total, t.Completed, t.Failed, t.Errored, t.Pending,
		ts(t.CreatedAt), tsp(t.FinishedAt)}
}

type scoreJSON struct {
	ID                     string   `json:"id"`
	OrganizationID         string   `json:"organization_id"`
	EvalRunID              string   `json:"eval_run_id"`
	Value                  float64  `json:"value"`
	RawValue               *float64 `json:"raw_value"`
	Label                  *string  `json:"label"`
	Passed                 bool     `json:"passed"`
	Confidence             *float64 `json:"confidence"`
	Rationale              *string  `json:"rationale"`
	Severity               string   `json:"severity"`
	Blocking               bool     `json:"blocking"`
	CreatedAt              string   `json:"created_at"`
	EvidenceObservationIDs []string `json:"evidence_observation_ids"`
}

type runJSON struct {
	ID                 string         `json:"id"`
	OrganizationID     string         `json:"organization_id"`
	SessionID          string         `json:"session_id"`
	EvaluatorID        string         `json:"evaluator_id"`
	Status             string         `json:"status"`
	Outcome            *string        `json:"outcome"`
	StartedAt          *string        `json:"started_at"`
	FinishedAt         *string        `json:"finished_at"`
	ErrorText          *string        `json:"error_text"`
	PromptSnapshot     string         `json:"prompt_snapshot"`
	ThresholdSnapshot  *float64       `json:"threshold_snapshot"`
	SeveritySnapshot   string         `json:"severity_snapshot"`
	FormatSnapshot     string         `json:"format_snapshot"`
	KindSnapshot       string         `json:"kind_snapshot"`
	CreatedAt          string         `json:"created_at"`
	AgentID            *string        `json:"agent_id"`
	Channel            *string        `json:"channel"`
	ConfigSnapshot     map[string]any `json:"config_snapshot"`
	IsCriticalSnapshot bool           `json:"is_critical_snapshot"`
	Scores             []scoreJSON    `json:"scores"`
	TaskID             string         `json:"task_id"`
	Attempts           int            `json:"attempts"`
	InputTokens        int64          `json:"input_tokens"`
	OutputTokens       int64          `json:"output_tokens"`
	CostUSD            float64        `json:"cost_usd"`
	LatencyMS          int64          `json:"latency_ms"`
}

func toRun(r eval.Run) runJSON {
	out := runJSON{
		ID: r.ID, OrganizationID: r.OrgID, SessionID: r.SessionID, EvaluatorID: r.EvaluatorID, Status: r.Status,
		Outcome: nullable(eval.Outcome(r)), StartedAt: tsp(r.StartedAt), FinishedAt: tsp(r.FinishedAt), ErrorText: r.ErrorText,
		PromptSnapshot: r.Snapshot.Prompt, ThresholdSnapshot: r.Snapshot.Threshold, SeveritySnapshot: r.Snapshot.Severity,
		FormatSnapshot: r.Snapshot.Format, KindSnapshot: r.Snapshot.Kind, CreatedAt: ts(r.CreatedAt),
		AgentID: nullable(r.AgentID), Channel: nullable(r.Channel), ConfigSnapshot: r.Snapshot.Config,
		IsCriticalSnapshot: r.Snapshot.IsCritical, Scores: []scoreJSON{}, TaskID: r.TaskID, Attempts: r.Attempts,
		InputTokens: r.InputTokens, OutputTokens: r.OutputTokens, CostUSD: r.CostUSD, LatencyMS: r.LatencyMS,
	}
	if out.ConfigSnapshot == nil {
		out.ConfigSnapshot = map[string]any{}
	}
	for _, s := range r.Scores {
		ev := s.EvidenceTurnID
		if ev == nil {
			ev = []string{}
		}
		out.Scores = append(out.Scores, scoreJSON{s.ID, r.OrgID, r.ID, s.Value, s.RawValue, s.Label, s.Passed,
			s.Confidence, s.Rationale, s.Severity, s.Blocking, ts(s.CreatedAt), ev})
	}
	return out
}

type runDetailJSON struct {
	runJSON
	Session *sessionJSON `json:"session,omitempty"`
	Turns   *[]turnJSON  `json:"turns,omitempty"`
}

type summaryJSON struct {
	Total             int    `json:"total"`
	Succeeded         int    `json:"succeeded"`
	Failed            int    `json:"failed"`
	Pending           int    `json:"pending"`
	CriticalTotal     int    `json:"critical_total"`
	CriticalSucceeded int    `json:"critical_succeeded"`
	CriticalFailed    int    `json:"critical_failed"`
	CriticalPending   int    `json:"critical_pending"`
	EvalStatus        string `json:"eval_status"`
}

type turnJSON struct {
	ID          string          `json:"id"`
	SessionID   string          `json:"session_id"`
	Role        string          `json:"role"`
	Content     string          `json:"content"`
	CreatedAt   string          `json:"created_at"`
	ToolCalls   json.RawMessage `json:"tool_calls"`
	ToolResults json.RawMessage `json:"tool_results"`
}

func toTurn(t eval.Turn) turnJSON {
	null := json.RawMessage("null")
	out := turnJSON{t.ID, t.SessionID, t.Role, t.Content, ts(t.CreatedAt), t.ToolCalls, t.ToolResults}
	if out.ToolCalls == nil {
		out.ToolCalls = null
	}
	if out.ToolResults == nil {
		out.ToolResults = null
	}
	return out
}

func toTurns(ts []eval.Turn) []turnJSON {
	out := make([]turnJSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, toTurn(t))
	}
	return out
}

type sessionJSON struct {
	ID              string         `json:"id"`
	OrganizationID  string         `json:"organization_id"`
	AgentID         string         `json:"agent_id"`
	AssignedAgentID string         `json:"assigned_agent_id"`
	ScenarioID      *string        `json:"scenario_id"`
	SessionType     string         `json:"session_type"`
	Channel         string         `json:"channel"`
	Status          string         `json:"status"`
	Metadata        map[string]any `json:"metadata"`
	StartedAt       *string        `json:"started_at"`
	EndedAt         *string        `json:"ended_at"`
	CreatedAt       string         `json:"created_at"`
	UpdatedAt       string         `json:"updated_at"`
	MessageCount    int            `json:"message_count"`
	EvalSummary     summaryJSON    `json:"eval_summary"`
	RecentTurns     []turnJSON     `json:"recent_turns"`
}

func toSession(c eval.Conversation, s eval.Summary, recent []eval.Turn) sessionJSON {
	return sessionJSON{
		ID: c.ID, OrganizationID: c.OrgID, AgentID: c.AgentID, AssignedAgentID: c.AgentID, ScenarioID: nullable(c.ScenarioID),
		SessionType: c.SessionType, Channel: c.Channel, Status: c.Status, Metadata: c.Metadata,
		StartedAt: tsp(c.StartedAt), EndedAt: tsp(c.EndedAt), CreatedAt: ts(c.CreatedAt), UpdatedAt: ts(c.UpdatedAt),
		MessageCount: c.MessageCount, EvalSummary: summaryJSON{s.Total, s.Succeeded, s.Failed, s.Pending, s.CriticalTotal, s.CriticalSucceeded,
			s.CriticalFailed, s.CriticalPending, s.Status}, RecentTurns: toTurns(recent),
	}
}

type evaluatorJSON struct {
	ID             string         `json:"id"`
	OrganizationID string         `json:"organization_id"`
	Name           string         `json:"name"`
	Description    *string        `json:"description"`
	Kind           string         `json:"kind"`
	Format         string         `json:"format"`
	Severity       string         `json:"severity"`
	Prompt         string         `json:"prompt"`
	Threshold      float64        `json:"threshold"`
	Config         map[string]any `json:"config"`
	Status         string         `json:"status"`
	CreatedAt      string         `json:"created_at"`
	UpdatedAt      string         `json:"updated_at"`
}

func toEvaluator(e eval.Evaluator) evaluatorJSON {
	cfg := e.Config
	if cfg == nil {
		cfg = map[string]any{}
	}
	return evaluatorJSON{e.ID, e.OrgID, e.Name, e.Description, e.Kind, e.Format, e.Severity, e.Prompt, e.Threshold,
		cfg, e.Status, ts(e.CreatedAt), ts(e.UpdatedAt)}
}

type bindingJSON struct {
	ID             string  `json:"id"`
	OrganizationID string  `json:"organization_id"`
	EvaluatorID    string  `json:"evaluator_id"`
	Scope          string  `json:"scope"`
	AgentID        *string `json:"agent_id"`
	ScenarioID     *string `json:"scenario_id"`
	IsCritical     bool    `json:"is_critical"`
	CreatedAt      string  `json:"created_at"`
}

func toBinding(b eval.Binding) bindingJSON {
	return bindingJSON{b.ID, b.OrgID, b.EvaluatorID, b.Scope, nullable(b.AgentID), nullable(b.ScenarioID), b.IsCritical, ts(b.CreatedAt)}
}

type evalConfigJSON struct {
	EvaluateLive bool `json:"evaluate_live"`
	EvaluateTest bool `json:"evaluate_test"`
}
