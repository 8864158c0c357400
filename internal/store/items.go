package store

import (
	"encoding/json"
	"time"

	"github.com/plume-evals/plume/internal/eval"
)

// Item structs are the table's wire shape. Domain types carry no tags; these
// do, and toX/fromX convert between them.

type apiKeyItem struct {
	key
	ID        string     `dynamodbav:"id"`
	OrgID     string     `dynamodbav:"org_id"`
	Name      string     `dynamodbav:"name"`
	Hash      string     `dynamodbav:"hash"`
	CreatedAt time.Time  `dynamodbav:"created_at"`
	RevokedAt *time.Time `dynamodbav:"revoked_at,omitempty"`
}

func toAPIKeyItem(k key, a eval.APIKey) apiKeyItem {
	return apiKeyItem{k, a.ID, a.OrgID, a.Name, a.Hash, a.CreatedAt, a.RevokedAt}
}

func (i apiKeyItem) domain() eval.APIKey {
	return eval.APIKey{ID: i.ID, OrgID: i.OrgID, Name: i.Name, Hash: i.Hash, CreatedAt: i.CreatedAt, RevokedAt: i.RevokedAt}
}

type summaryAttr struct {
	Total             int    `dynamodbav:"total"`
	Succeeded         int    `dynamodbav:"succeeded"`
	Failed            int    `dynamodbav:"failed"`
	Pending           int    `dynamodbav:"pending"`
	CriticalTotal     int    `dynamodbav:"critical_total"`
	CriticalSucceeded int    `dynamodbav:"critical_succeeded"`
	CriticalFailed    int    `dynamodbav:"critical_failed"`
	CriticalPending   int    `dynamodbav:"critical_pending"`
	Status            string `dynamodbav:"eval_status"`
}

func toSummaryAttr(s eval.Summary) summaryAttr { return summaryAttr(s) }

type convItem struct {
	key
	ID           string       `dynamodbav:"id"`
	OrgID        string       `dynamodbav:"org_id"`
	AgentID      string       `dynamodbav:"agent_id"`
	ScenarioID   string       `dynamodbav:"scenario_id,omitempty"`
	SessionType  string       `dynamodbav:"session_type"`
	Channel      string       `dynamodbav:"channel"`
	Status       string       `dynamodbav:"status"`
	Metadata     string       `dynamodbav:"metadata"` // JSON text: keeps numbers and order exact
	StartedAt    *time.Time   `dynamodbav:"started_at,omitempty"`
	EndedAt      *time.Time   `dynamodbav:"ended_at,omitempty"`
	CreatedAt    time.Time    `dynamodbav:"created_at"`
	UpdatedAt    time.Time    `dynamodbav:"updated_at"`
	MessageCount int          `dynamodbav:"message_count"`
	Summary      *summaryAttr `dynamodbav:"eval_summary,omitempty"`
	Generation   string       `dynamodbav:"gen,omitempty"`
	PrevGen      string       `dynamodbav:"prev_gen,omitempty"`
	ActiveTask   string       `dynamodbav:"active_task,omitempty"`
	TaskKind     string       `dynamodbav:"task_kind,omitempty"`
	LeaseMS      int64        `dynamodbav:"lease_ms,omitempty"` // epoch ms: compared in conditions
}

func (i convItem) domain() eval.Conversation {
	c := eval.Conversation{
		ID: i.ID, OrgID: i.OrgID, AgentID: i.AgentID, ScenarioID: i.ScenarioID,
		SessionType: i.SessionType, Channel: i.Channel, Status: i.Status,
		StartedAt: i.StartedAt, EndedAt: i.EndedAt, CreatedAt: i.CreatedAt, UpdatedAt: i.UpdatedAt,
		MessageCount: i.MessageCount,
		Guard:        eval.Guard{Generation: i.Generation, ActiveTask: i.ActiveTask, TaskKind: i.TaskKind},
	}
	if i.LeaseMS != 0 {
		c.Guard.LeaseUntil = time.UnixMilli(i.LeaseMS).UTC()
	}
	if i.Summary != nil {
		c.Summary = eval.Summary(*i.Summary)
	} else {
		c.Summary = eval.Summary{Status: "none"}
	}
	if i.Metadata != "" {
		_ = json.Unmarshal([]byte(i.Metadata), &c.Metadata) // written by us from valid JSON
	}
	if c.Metadata == nil {
		c.Metadata = map[string]any{}
	}
	return c
}

type turnItem struct {
	key
	ID          string    `dynamodbav:"id"`
	SessionID   string    `dynamodbav:"session_id"`
	Seq         int       `dynamodbav:"seq"`
	Role        string    `dynamodbav:"role"`
	Content     string    `dynamodbav:"content"`
	CreatedAt   time.Time `dynamodbav:"created_at"`
	ToolCalls   string    `dynamodbav:"tool_calls,omitempty"`
	ToolResults string    `dynamodbav:"tool_results,omitempty"`
}

func toTurnItem(org string, t eval.Turn) turnItem {
	return turnItem{turnKey(org, t.SessionID, t.Seq), t.ID, t.SessionID, t.Seq, t.Role, t.Content, t.CreatedAt,
		string(t.ToolCalls), string(t.ToolResults)}
}

func (i turnItem) domain() eval.Turn {
	t := eval.Turn{ID: i.ID, SessionID: i.SessionID, Seq: i.Seq, Role: i.Role, Content: i.Content, CreatedAt: i.CreatedAt}
	if i.ToolCalls != "" {
		t.ToolCalls = json.RawMessage(i.ToolCalls)
	}
	if i.ToolResults != "" {
		t.ToolResults = json.RawMessage(i.ToolResults)
	}
	return t
}

type evaluatorItem struct {
	key
	GSI2PK      string    `dynamodbav:"GSI2PK"`
	GSI2SK      string    `dynamodbav:"GSI2SK"`
	ID          string    `dynamodbav:"id"`
	OrgID       string    `dynamodbav:"org_id"`
	Name        string    `dynamodbav:"name"`
	Description *string   `dynamodbav:"description,omitempty"`
	Kind        string    `dynamodbav:"kind"`
	Format      string    `dynamodbav:"format"`
	Severity    string    `dynamodbav:"severity"`
	Prompt      string    `dynamodbav:"prompt"`
	Threshold   float64   `dynamodbav:"threshold"`
	Config      string    `dynamodbav:"config"` // JSON text
	Status      string    `dynamodbav:"status"`
	CreatedAt   time.Time `dynamodbav:"created_at"`
	UpdatedAt   time.Time `dynamodbav:"updated_at"`
}

func toEvaluatorItem(e eval.Evaluator) evaluatorItem {
	return evaluatorItem{
		key: evaluatorKey(e.OrgID, e.ID), GSI2PK: orgListPK(e.OrgID, listEvaluators), GSI2SK: orgListSK(e.CreatedAt, e.ID),
		ID: e.ID, OrgID: e.OrgID, Name: e.Name, Description: e.Description, Kind: e.Kind, Format: e.Format,
		Severity: e.Severity, Prompt: e.Prompt, Threshold: e.Threshold, Config: jsonText(e.Config),
		Status: e.Status, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt,
	}
}

func (i evaluatorItem) domain() eval.Evaluator {
	return eval.Evaluator{
		ID: i.ID, OrgID: i.OrgID, Name: i.Name, Description: i.Description, Kind: i.Kind, Format: i.Format,
		Severity: i.Severity, Prompt: i.Prompt, Threshold: i.Threshold, Config: jsonObject(i.Config),
		Status: i.Status, CreatedAt: i.CreatedAt, UpdatedAt: i.UpdatedAt,
	}
}

type bindingItem struct {
	key
	GSI1PK      string    `dynamodbav:"GSI1PK"`
	GSI1SK      string    `dynamodbav:"GSI1SK"`
	GSI2PK      string    `dynamodbav:"GSI2PK"`
	GSI2SK      string    `dynamodbav:"GSI2SK"`
	ID          string    `dynamodbav:"id"`
	OrgID       string    `dynamodbav:"org_id"`
	EvaluatorID string    `dynamodbav:"evaluator_id"`
	Scope       string    `dynamodbav:"scope"`
	AgentID     string    `dynamodbav:"agent_id,omitempty"`
	ScenarioID  string    `dynamodbav:"scenario_id,omitempty"`
	IsCritical  bool      `dynamodbav:"is_critical"`
	CreatedAt   time.Time `dynamodbav:"created_at"`
}

func toBindingItem(b eval.Binding) bindingItem {
	return bindingItem{
		key:    bindingKey(b.OrgID, b.ID),
		GSI1PK: targetPK(b.OrgID, b.Scope, b.Target()), GSI1SK: "BINDING#" + b.ID,
		GSI2PK: orgListPK(b.OrgID, listBindings), GSI2SK: orgListSK(b.CreatedAt, b.ID),
		ID: b.ID, OrgID: b.OrgID, EvaluatorID: b.EvaluatorID, Scope: b.Scope, AgentID: b.AgentID,
		ScenarioID: b.ScenarioID, IsCritical: b.IsCritical, CreatedAt: b.CreatedAt,
	}
}

func (i bindingItem) domain() eval.Binding {
	return eval.Binding{ID: i.ID, OrgID: i.OrgID, EvaluatorID: i.EvaluatorID, Scope: i.Scope, AgentID: i.AgentID,
		ScenarioID: i.ScenarioID, IsCritical: i.IsCritical, CreatedAt: i.CreatedAt}
}

type bindMarkerItem struct {
	key
	BindingID string `dynamodbav:"binding_id"`
}

type scoreAttr struct {
	ID         string    `dynamodbav:"id"`
	Value      float64   `dynamodbav:"value"`
	RawValue   *float64  `dynamodbav:"raw_value,omitempty"`
	Label      *string   `dynamodbav:"label,omitempty"`
	Passed     bool      `dynamodbav:"passed"`
	Confidence *float64  `dynamodbav:"confidence,omitempty"`
	Rationale  *string   `dynamodbav:"rationale,omitempty"`
	Severity   string    `dynamodbav:"severity"`
	Blocking   bool      `dynamodbav:"blocking"`
	CreatedAt  time.Time `dynamodbav:"created_at"`
	Evidence   []string  `dynamodbav:"evidence,omitempty"`
}

type runItem struct {
	key
	GSI1PK       string      `dynamodbav:"GSI1PK"`
	GSI1SK       string      `dynamodbav:"GSI1SK"`
	GSI2PK       string      `dynamodbav:"GSI2PK"`
	GSI2SK       string      `dynamodbav:"GSI2SK"`
	ID           string      `dynamodbav:"id"`
	OrgID        string      `dynamodbav:"org_id"`
	SessionID    string      `dynamodbav:"session_id"`
	EvaluatorID  string      `dynamodbav:"evaluator_id"`
	TaskID       string      `dynamodbav:"task_id"`
	Generation   string      `dynamodbav:"gen"`
	Status       string      `dynamodbav:"status"`
	PrevStatus   string      `dynamodbav:"prev_status,omitempty"`
	PrevTask     string      `dynamodbav:"prev_task,omitempty"`
	StartedAt    *time.Time  `dynamodbav:"started_at,omitempty"`
	FinishedAt   *time.Time  `dynamodbav:"finished_at,omitempty"`
	ErrorText    *string     `dynamodbav:"error_text,omitempty"`
	Kind         string      `dynamodbav:"kind_snapshot"`
	Prompt       string      `dynamodbav:"prompt_snapshot"`
	Threshold    *float64    `dynamodbav:"threshold_snapshot,omitempty"`
	Severity     string      `dynamodbav:"severity_snapshot"`
	Format       string      `dynamodbav:"format_snapshot"`
	Config       string      `dynamodbav:"config_snapshot"`
	IsCritical   bool        `dynamodbav:"is_critical_snapshot"`
	CreatedAt    time.Time   `dynamodbav:"created_at"`
	AgentID      string      `dynamodbav:"agent_id,omitempty"`
	Channel      string      `dynamodbav:"channel,omitempty"`
	SessionType  string      `dynamodbav:"session_type,omitempty"`
	Scores       []scoreAttr `dynamodbav:"scores"`
	Attempts     int         `dynamodbav:"attempts"`
	InputTokens  int64       `dynamodbav:"input_tokens"`
	OutputTokens int64       `dynamodbav:"output_tokens"`
	CostUSD      float64     `dynamodbav:"cost_usd"`
	LatencyMS    int64       `dynamodbav:"latency_ms"`
	// Filterable copies of derived values.
	Outcome  string   `dynamodbav:"outcome,omitempty"`
	MinScore *float64 `dynamodbav:"min_score,omitempty"`
}

func toRunItem(r eval.Run) runItem {
	it := runItem{
		key:    runKey(r.OrgID, r.ID),
		GSI1PK: runParentPK(r.OrgID, r.SessionID), GSI1SK: runParentSK(r.Generation, r.CreatedAt, r.ID),
		GSI2PK: orgListPK(r.OrgID, listRuns), GSI2SK: orgListSK(r.CreatedAt, r.ID),
		ID: r.ID, OrgID: r.OrgID, SessionID: r.SessionID, EvaluatorID: r.EvaluatorID, TaskID: r.TaskID,
		Generation: r.Generation, Status: r.Status, PrevStatus: r.PrevStatus, StartedAt: r.StartedAt,
		FinishedAt: r.FinishedAt, ErrorText: r.ErrorText, Kind: r.Snapshot.Kind, Prompt: r.Snapshot.Prompt,
		Threshold: r.Snapshot.Threshold, Severity: r.Snapshot.Severity, Format: r.Snapshot.Format,
		Config: jsonText(r.Snapshot.Config), IsCritical: r.Snapshot.IsCritical, CreatedAt: r.CreatedAt,
		AgentID: r.AgentID, Channel: r.Channel, SessionType: r.SessionType, Scores: []scoreAttr{},
		Attempts: r.Attempts, InputTokens: r.InputTokens, OutputTokens: r.OutputTokens, CostUSD: r.CostUSD,
		LatencyMS: r.LatencyMS, Outcome: eval.Outcome(r),
	}
	for _, s := range r.Scores {
		it.Scores = append(it.Scores, scoreAttr{s.ID, s.Value, s.RawValue, s.Label, s.Passed, s.Confidence,
			s.Rationale, s.Severity, s.Blocking, s.CreatedAt, s.EvidenceTurnID})
		if it.MinScore == nil || s.Value < *it.MinScore {
			v := s.Value
			it.MinScore = &v
		}
	}
	return it
}

func (i runItem) domain() eval.Run {
	r := eval.Run{
		ID: i.ID, OrgID: i.OrgID, SessionID: i.SessionID, EvaluatorID: i.EvaluatorID, TaskID: i.TaskID,
		Generation: i.Generation, Status: i.Status, PrevStatus: i.PrevStatus, StartedAt: i.StartedAt,
		FinishedAt: i.FinishedAt, ErrorText: i.ErrorText,
		Snapshot: eval.Snapshot{Kind: i.Kind, Prompt: i.Prompt, Threshold: i.Threshold, Severity: i.Severity,
			Format: i.Format, Config: jsonObject(i.Config), IsCritical: i.IsCritical},
		CreatedAt: i.CreatedAt, AgentID: i.AgentID, Channel: i.Channel, SessionType: i.SessionType,
		Attempts: i.Attempts, InputTokens: i.InputTokens, OutputTokens: i.OutputTokens, CostUSD: i.CostUSD,
		LatencyMS: i.LatencyMS, Scores: []eval.Score{},
	}
	for _, s := range i.Scores {
		r.Scores = append(r.Scores, eval.Score{ID: s.ID, OrgID: i.OrgID, RunID: i.ID, Value: s.Value, RawValue: s.RawValue,
			Label: s.Label, Passed: s.Passed, Confidence: s.Confidence, Rationale: s.Rationale, Severity: s.Severity,
			Blocking: s.Blocking, CreatedAt: s.CreatedAt, EvidenceTurnID: s.Evidence})
	}
	return r
}

type taskItem struct {
	key
	ID         string     `dynamodbav:"id"`
	OrgID      string     `dynamodbav:"org_id"`
	SessionID  string     `dynamodbav:"session_id"`
	Kind       string     `dynamodbav:"kind"`
	Status     string     `dynamodbav:"status"`
	Generation string     `dynamodbav:"gen"`
	RunIDs     []string   `dynamodbav:"run_ids,omitempty"`
	Evaluators []string   `dynamodbav:"evaluator_ids,omitempty"`
	RunID      string     `dynamodbav:"run_id,omitempty"`
	Planned    bool       `dynamodbav:"planned"`
	CreatedAt  time.Time  `dynamodbav:"created_at"`
	FinishedAt *time.Time `dynamodbav:"finished_at,omitempty"`
	Total      int        `dynamodbav:"total"`
	Completed  int        `dynamodbav:"completed"`
	Failed     int        `dynamodbav:"failed"`
	Errored    int        `dynamodbav:"errored"`
	ExpiresAt  int64      `dynamodbav:"expires_at,omitempty"`
}

func toTaskItem(t eval.Task) taskItem {
	return taskItem{key: taskKey(t.OrgID, t.ID), ID: t.ID, OrgID: t.OrgID, SessionID: t.SessionID, Kind: t.Kind,
		Status: t.Status, Generation: t.Generation, RunIDs: t.RunIDs, RunID: t.RunID, Planned: t.Kind == eval.TaskRetry,
		CreatedAt: t.CreatedAt, FinishedAt: t.FinishedAt, Total: t.Total, Completed: t.Completed, Failed: t.Failed,
		Errored: t.Errored, ExpiresAt: t.CreatedAt.Add(taskTTL).Unix()}
}

// taskTTL is how long a finished task stays readable.
const taskTTL = 30 * 24 * time.Hour

func (i taskItem) domain() eval.Task {
	return eval.Task{ID: i.ID, OrgID: i.OrgID, SessionID: i.SessionID, Kind: i.Kind, Status: i.Status,
		Generation: i.Generation, RunIDs: i.RunIDs, EvaluatorIDs: i.Evaluators, RunID: i.RunID, CreatedAt: i.CreatedAt, FinishedAt: i.FinishedAt,
		Total: i.Total, Completed: i.Completed, Failed: i.Failed, Errored: i.Errored}
}

type evalConfigItem struct {
	key
	EvaluateLive bool `dynamodbav:"evaluate_live"`
	EvaluateTest bool `dynamodbav:"evaluate_test"`
}

func jsonText(m map[string]any) string {
	if m == nil {
		return "{}"
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "{}"
	}
	return string(b)
}

func jsonObject(s string) map[string]any {
	m := map[string]any{}
	if s != "" {
		_ = json.Unmarshal([]byte(s), &m)
	}
	return m
}
