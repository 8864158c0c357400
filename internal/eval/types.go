package eval

import (
	"encoding/json"
	"time"
)

// Evaluator kinds.
const (
	KindModelJudge = "model_judge"
	KindExpression = "expression"
	KindRegex      = "regex"
)

// Evaluator formats.
const (
	FormatScore   = "score"
	FormatBoolean = "boolean"
)

// Run statuses: pending → running → completed | failed | errored.
const (
	StatusPending   = "pending"
	StatusRunning   = "running"
	StatusCompleted = "completed"
	StatusFailed    = "failed"
	StatusErrored   = "errored"
)

// Run outcomes, derived from a run's status and scores.
const (
	OutcomePassed    = "passed"
	OutcomeFailed    = "failed"
	OutcomeNoVerdict = "no_verdict"
	OutcomeErrored   = "errored"
)

// Task kinds and statuses.
const (
	TaskReevaluate = "reevaluate"
	TaskRetry      = "retry"

	TaskQueued    = "queued"
	TaskRunning   = "running"
	TaskCompleted = "completed"
)

// Binding scopes.
const (
	ScopeAgent    = "agent"
	ScopeScenario = "scenario"
)

// Evaluator statuses.
const (
	EvaluatorActive   = "active"
	EvaluatorArchived = "archived"
)

// Session types.
const (
	SessionLive       = "live"
	SessionTest       = "test"
	SessionSimulation = "simulation"
)

// APIKey is an organization's credential. Only the SHA-256 of the secret is
// ever stored.
type APIKey struct {
	ID        string
	OrgID     string
	Name      string
	Hash      string // hex SHA-256 of the secret
	CreatedAt time.Time
	RevokedAt *time.Time
}

// Conversation is a session of an agent with its transcript (Turns are
// stored separately) and its evaluation state.
type Conversation struct {
	ID           string
	OrgID        string
	AgentID      string
	ScenarioID   string // "" when none
	SessionType  string
	Channel      string
	Status       string
	Metadata     map[string]any
	StartedAt    *time.Time
	EndedAt      *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
	MessageCount int
	Summary      Summary
	Guard        Guard
}

// Guard is the per-conversation evaluation lock. Generation names the task
// whose runs are the visible ones; ActiveTask is the task holding the lock,
// "" when free. A guard whose LeaseUntil has passed no longer blocks a
// reevaluate.
type Guard struct {
	Generation string
	ActiveTask string
	TaskKind   string
	LeaseUntil time.Time
}

// Busy reports whether the guard blocks a new task at now.
func (g Guard) Busy(now time.Time) bool {
	return g.ActiveTask != "" && now.Before(g.LeaseUntil)
}

// Turn is one message of a transcript.
type Turn struct {
	ID          string
	SessionID   string
	Seq         int
	Role        string
	Content     string
	CreatedAt   time.Time
	ToolCalls   json.RawMessage // nil when absent
	ToolResults json.RawMessage
}

// Evaluator defines how to judge a conversation.
type Evaluator struct {
	ID          string
	OrgID       string
	Name        string
	Description *string
	Kind        string
	Format      string
	Severity    string
	Prompt      string
	Threshold   float64
	Config      map[string]any
	Status      string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Binding attaches an evaluator to an agent or a scenario.
type Binding struct {
	ID          string
	OrgID       string
	EvaluatorID string
	Scope       string
	AgentID     string // set when Scope is agent
	ScenarioID  string // set when Scope is scenario
	IsCritical  bool
	CreatedAt   time.Time
}

// Target returns the id the binding points at.
func (b Binding) Target() string {
	if b.Scope == ScopeScenario {
		return b.ScenarioID
	}
	return b.AgentID
}

// Snapshot is what a run copies from its evaluator and binding when it is
// created, so that later edits never change it.
type Snapshot struct {
	Kind       string
	Prompt     string
	Threshold  *float64
	Severity   string
	Format     string
	Config     map[string]any
	IsCritical bool
}

// Run is one evaluator's evaluation of one conversation.
type Run struct {
	ID          string
	OrgID       string
	SessionID   string
	EvaluatorID string
	TaskID      string // the task that owns the run now
	Generation  string // the reevaluate task that created it
	Status      string
	StartedAt   *time.Time
	FinishedAt  *time.Time
	ErrorText   *string
	Snapshot    Snapshot
	CreatedAt   time.Time
	AgentID     string
	Channel     string
	SessionType string
	Scores      []Score
	Attempts    int
	// PrevStatus is the status a retry found, restored if the retry cannot
	// be queued.
	PrevStatus   string
	InputTokens  int64
	OutputTokens int64
	CostUSD      float64
	LatencyMS    int64
}

// Terminal reports whether the run has ended.
func (r Run) Terminal() bool { return IsTerminal(r.Status) }

// Score is one judgement inside a run.
type Score struct {
	ID             string
	OrgID          string
	RunID          string
	Value          float64
	RawValue       *float64
	Label          *string
	Passed         bool
	Confidence     *float64
	Rationale      *string
	Severity       string
	Blocking       bool
	CreatedAt      time.Time
	EvidenceTurnID []string
}

// Task is one accepted reevaluate or retry.
type Task struct {
	ID         string
	OrgID      string
	SessionID  string
	Kind       string
	Status     string
	Generation string   // the generation the task works in
	RunIDs     []string // fixed once the worker has taken snapshots
	// EvaluatorIDs are the evaluators of RunIDs, index for index.
	EvaluatorIDs []string
	RunID        string // the run a retry re-runs
	CreatedAt    time.Time
	FinishedAt   *time.Time
	Total        int
	Completed    int
	Failed       int
	Errored      int
	Pending      int
}

// EvalConfig says which session types of an agent are evaluated
// automatically. Simulations always are.
type EvalConfig struct {
	EvaluateLive bool
	EvaluateTest bool
}

// DefaultEvalConfig is the configuration of an agent that never set one.
var DefaultEvalConfig = EvalConfig{EvaluateLive: true, EvaluateTest: true}

// Allows reports whether a session of the given type is evaluated
// automatically.
func (c EvalConfig) Allows(sessionType string) bool {
	switch sessionType {
	case SessionLive:
		return c.EvaluateLive
	case SessionTest:
		return c.EvaluateTest
	default:
		return true
	}
}

// Summary is a conversation's eval_summary.
type Summary struct {
	Total             int
	Succeeded         int
	Failed            int
	Pending           int
	CriticalTotal     int
	CriticalSucceeded int
	CriticalFailed    int
	CriticalPending   int
	Status            string // none | pending | success | partial | failure
}
