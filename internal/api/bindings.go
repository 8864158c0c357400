package api

import (
	"net/http"

	"github.com/plume-evals/plume/internal/eval"
	"github.com/plume-evals/plume/internal/store"
)

var bindingScopes = []string{eval.ScopeAgent, eval.ScopeScenario}

func (a *API) createBinding(w http.ResponseWriter, r *http.Request) {
	f, p, ok := a.body(w, r)
	if !ok {
		return
	}
	b := eval.Binding{
		ID: a.NewID(), OrgID: orgID(r), EvaluatorID: f.uuid(&p, "evaluator_id", true),
		Scope:   f.enum(&p, "scope", true, "", bindingScopes...),
		AgentID: f.uuid(&p, "agent_id", false), ScenarioID: f.uuid(&p, "scenario_id", false),
		CreatedAt: a.Now().UTC(),
	}
	if c := f.boolean(&p, "is_critical"); c != nil {
		b.IsCritical = *c
	}
	if len(p) == 0 {
		// The id must match the scope, and only that id may be set.
		need, other := "agent_id", "scenario_id"
		if b.Scope == eval.ScopeScenario {
			need, other = other, need
		}
		if b.Target() == "" {
			p.add(f.l(need), "value_error", "Value error, "+need+" is required when scope is "+b.Scope, nil, nil)
		}
		if (b.Scope == eval.ScopeAgent && b.ScenarioID != "") || (b.Scope == eval.ScopeScenario && b.AgentID != "") {
			p.add(f.l(other), "value_error", "Value error, "+other+" must be null when scope is "+b.Scope, f.m[other], nil)
		}
	}
	if a.answered(w, r, p, nil) {
		return
	}
	e, err := a.Store.GetEvaluator(r.Context(), b.OrgID, b.EvaluatorID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if e.Status != eval.EvaluatorActive {
		a.fail(w, r, eval.Errorf(eval.ErrInvalid, "evaluator %s is archived; only active evaluators can be bound", e.ID))
		return
	}
	if err := a.Store.CreateBinding(r.Context(), b); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toBinding(b))
}

func (a *API) updateBinding(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "binding_id")
	if !ok {
		return
	}
	f, p, ok := a.body(w, r)
	if !ok {
		return
	}
	c := f.boolean(&p, "is_critical")
	if a.answered(w, r, p, nil) {
		return
	}
	var b eval.Binding
	var err error
	if c == nil {
		b, err = a.Store.GetBinding(r.Context(), orgID(r), id)
	} else {
		b, err = a.Store.SetBindingCritical(r.Context(), orgID(r), id, *c)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toBinding(b))
}

func (a *API) listBindings(w http.ResponseWriter, r *http.Request) {
	var p problems
	q := query{&p, r.URL.Query()}
	f := store.BindingFilter{EvaluatorID: q.uuid("evaluator_id"), AgentID: q.uuid("agent_id"), ScenarioID: q.uuid("scenario_id")}
	limit := q.limit()
	if len(p) > 0 {
		invalid(w, p)
		return
	}
	items, next, err := a.Store.ListBindings(r.Context(), orgID(r), f, limit, q.str("cursor"))
	if err != nil {
		a.failList(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list(items, next, toBinding))
}

func (a *API) putEvalConfig(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "agent_id")
	if !ok {
		return
	}
	f, p, ok := a.body(w, r)
	if !ok {
		return
	}
	live, test := f.boolean(&p, "evaluate_live"), f.boolean(&p, "evaluate_test")
	if a.answered(w, r, p, nil) {
		return
	}
	c, err := a.Store.UpdateEvalConfig(r.Context(), orgID(r), id, live, test)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, evalConfigJSON(c))
}
