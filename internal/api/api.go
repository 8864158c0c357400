// Package api is Plume's HTTP API: an ordinary net/http handler (every route
// in routes.go) that the Lambda serves through the API Gateway proxy and
// the local stack serves directly. It validates input into pydantic-shaped
// 422s, authenticates x-api-key against hashed keys, scopes every call to
// the key's organization and maps error kinds to statuses in one table
// (errors.go).
package api

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/plume-evals/plume/internal/eval"
	"github.com/plume-evals/plume/internal/store"
)

// Store is the storage the API reads and writes.
type Store interface {
	KeyByHash(ctx context.Context, hash string) (eval.APIKey, error)

	GetConversation(ctx context.Context, orgID, id string) (eval.Conversation, error)
	PutConversation(ctx context.Context, c eval.Conversation, turns []eval.Turn) (store.PutResult, error)
	DeleteConversation(ctx context.Context, orgID, id string, now time.Time) error
	Turns(ctx context.Context, orgID, id string) ([]eval.Turn, error)
	RecentTurns(ctx context.Context, orgID, id string, n int) ([]eval.Turn, error)

	VisibleRun(ctx context.Context, orgID, runID string) (eval.Run, eval.Conversation, error)
	ListRuns(ctx context.Context, orgID string, f store.RunFilter, limit int, after string) ([]eval.Run, string, error)
	RunsOfGeneration(ctx context.Context, orgID, sessionID, gen string) ([]eval.Run, error)
	GetRuns(ctx context.Context, orgID string, ids []string) (map[string]eval.Run, error)
	GetTask(ctx context.Context, orgID, id string) (eval.Task, error)

	PutEvaluator(ctx context.Context, e eval.Evaluator, create bool) error
	GetEvaluator(ctx context.Context, orgID, id string) (eval.Evaluator, error)
	ListEvaluators(ctx context.Context, orgID, status string, limit int, after string) ([]eval.Evaluator, string, error)
	DeleteEvaluator(ctx context.Context, orgID, id string) error

	CreateBinding(ctx context.Context, b eval.Binding) error
	GetBinding(ctx context.Context, orgID, id string) (eval.Binding, error)
	SetBindingCritical(ctx context.Context, orgID, id string, critical bool) (eval.Binding, error)
	DeleteBinding(ctx context.Context, orgID, id string) error
	ListBindings(ctx context.Context, orgID string, f store.BindingFilter, limit int, after string) ([]eval.Binding, string, error)

	GetEvalConfig(ctx context.Context, orgID, agentID string) (eval.EvalConfig, error)
	UpdateEvalConfig(ctx context.Context, orgID, agentID string, live, test *bool) (eval.EvalConfig, error)
}

// Tasks accepts reevaluate and retry requests (eval.Service).
type Tasks interface {
	Reevaluate(ctx context.Context, orgID, sessionID string) (eval.Task, error)
	Retry(ctx context.Context, orgID, runID string) (eval.Task, error)
}

// Checker validates an evaluator config of a deterministic kind
// (scorer.Check); nil accepts every config.
type Checker func(kind string, config map[string]any) error

// API serves Plume's HTTP routes.
type API struct {
	Store   Store
	Tasks   Tasks
	Check   Checker
	OpenAPI []byte
	Now     func() time.Time
	NewID   func() string
	Log     *slog.Logger
	// KeyTTL is how long an authenticated key is cached in memory.
	KeyTTL time.Duration

	mu   sync.Mutex
	keys map[string]cachedKey
}

type cachedKey struct {
	key     eval.APIKey
	expires time.Time
}

// Handler returns the API's handler.
func (a *API) Handler() http.Handler {
	if a.Log == nil {
		a.Log = slog.Default()
	}
	return a.routes()
}
