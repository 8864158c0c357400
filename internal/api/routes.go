package api

import (
	"context"
	"net/http"

	"github.com/plume-evals/plume/internal/eval"
)

// routes lists every route of the API. Path ids are validated by the
// handlers so that a bad one is a 422 in pydantic's shape, not a 404.
func (a *API) routes() http.Handler {
	mux := http.NewServeMux()
	auth := a.authenticate

	mux.HandleFunc("GET /healthz", a.healthz)
	mux.HandleFunc("GET /openapi.json", a.openapi)

	mux.Handle("POST /v1/v2/conversations/{conversation_id}/reevaluate", auth(a.reevaluate("conversation_id")))
	mux.Handle("POST /v1/sessions/{session_id}/reevaluate", auth(a.reevaluate("session_id")))

	mux.Handle("PUT /v1/v2/conversations/{conversation_id}", auth(a.putConversation))
	mux.Handle("GET /v1/v2/conversations/{conversation_id}", auth(a.getConversation))
	mux.Handle("DELETE /v1/v2/conversations/{conversation_id}", auth(a.deleteConversation))

	mux.Handle("GET /v1/eval-runs", auth(a.listRuns))
	mux.Handle("GET /v1/eval-runs/{run_id}", auth(a.getRun))
	mux.Handle("POST /v1/eval-runs/{run_id}/retry", auth(a.retryRun))
	mux.Handle("GET /v1/eval-tasks/{task_id}", auth(a.getTask))

	mux.Handle("POST /v1/evaluators", auth(a.createEvaluator))
	mux.Handle("GET /v1/evaluators", auth(a.listEvaluators))
	mux.Handle("GET /v1/evaluators/{evaluator_id}", auth(getOne(a, "evaluator_id", Store.GetEvaluator, toEvaluator)))
	mux.Handle("PATCH /v1/evaluators/{evaluator_id}", auth(a.updateEvaluator))
	mux.Handle("DELETE /v1/evaluators/{evaluator_id}", auth(deleteOne(a, "evaluator_id", Store.DeleteEvaluator)))

	mux.Handle("POST /v1/evaluator-bindings", auth(a.createBinding))
	mux.Handle("GET /v1/evaluator-bindings", auth(a.listBindings))
	mux.Handle("GET /v1/evaluator-bindings/{binding_id}", auth(getOne(a, "binding_id", Store.GetBinding, toBinding)))
	mux.Handle("PATCH /v1/evaluator-bindings/{binding_id}", auth(a.updateBinding))
	mux.Handle("DELETE /v1/evaluator-bindings/{binding_id}", auth(deleteOne(a, "binding_id", Store.DeleteBinding)))

	mux.Handle("GET /v1/agents/{agent_id}/eval-config", auth(getOne(a, "agent_id", Store.GetEvalConfig, func(c eval.EvalConfig) evalConfigJSON { return evalConfigJSON(c) })))
	mux.Handle("PUT /v1/agents/{agent_id}/eval-config", auth(a.putEvalConfig))

	return a.contract(mux)
}

// Routes lists the method and pattern of every route, for the test that
// holds the router and openapi.json to the same set.
var Routes = []string{
	"GET /healthz", "GET /openapi.json",
	"POST /v1/v2/conversations/{conversation_id}/reevaluate", "POST /v1/sessions/{session_id}/reevaluate",
	"PUT /v1/v2/conversations/{conversation_id}", "GET /v1/v2/conversations/{conversation_id}",
	"DELETE /v1/v2/conversations/{conversation_id}",
	"GET /v1/eval-runs", "GET /v1/eval-runs/{run_id}", "POST /v1/eval-runs/{run_id}/retry", "GET /v1/eval-tasks/{task_id}",
	"POST /v1/evaluators", "GET /v1/evaluators", "GET /v1/evaluators/{evaluator_id}",
	"PATCH /v1/evaluators/{evaluator_id}", "DELETE /v1/evaluators/{evaluator_id}",
	"POST /v1/evaluator-bindings", "GET /v1/evaluator-bindings", "GET /v1/evaluator-bindings/{binding_id}",
	"PATCH /v1/evaluator-bindings/{binding_id}", "DELETE /v1/evaluator-bindings/{binding_id}",
	"GET /v1/agents/{agent_id}/eval-config", "PUT /v1/agents/{agent_id}/eval-config",
}

// getOne serves the GET of one resource by its path id; get is a method
// expression of Store, bound to a.Store at request time.
func getOne[T, J any](a *API, param string, get func(s Store, ctx context.Context, orgID, id string) (T, error), render func(T) J) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := pathID(w, r, param)
		if !ok {
			return
		}
		v, err := get(a.Store, r.Context(), orgID(r), id)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, render(v))
	}
}

// deleteOne serves the DELETE of one resource by its path id: 204, no body.
func deleteOne(a *API, param string, del func(s Store, ctx context.Context, orgID, id string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := pathID(w, r, param)
		if !ok {
			return
		}
		if err := del(a.Store, r.Context(), orgID(r), id); err != nil {
			a.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

func (a *API) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (a *API) openapi(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(a.OpenAPI)
}
