package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/plume-evals/plume/internal/eval"
	"github.com/plume-evals/plume/internal/store"
)

var (
	runStatuses = []string{eval.StatusPending, eval.StatusRunning, eval.StatusCompleted, eval.StatusFailed, eval.StatusErrored}
	scopes      = []string{eval.SessionLive, eval.SessionSimulation, eval.SessionTest}
	outcomes    = []string{eval.OutcomePassed, eval.OutcomeFailed, eval.OutcomeNoVerdict, eval.OutcomeErrored}
)

func (a *API) listRuns(w http.ResponseWriter, r *http.Request) {
	var p problems
	q := query{&p, r.URL.Query()}
	f := store.RunFilter{
		SessionID: q.uuid("session_id"), EvaluatorID: q.uuid("evaluator_id"), AgentID: q.uuid("agent_id"),
		TaskID: q.uuid("task_id"), Status: q.enum("status", runStatuses...), Scope: q.enum("scope", scopes...),
		Outcome: q.enum("outcome", outcomes...), ScoreMin: q.number("score_min", 0, 1), ScoreMax: q.number("score_max", 0, 1),
	}
	limit := q.limit()
	if len(p) > 0 {
		invalid(w, p)
		return
	}
	runs, next, err := a.Store.ListRuns(r.Context(), orgID(r), f, limit, q.str("cursor"))
	if err != nil {
		a.failList(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list(runs, next, toRun))
}

// failList answers a bad cursor with a 422 on query.cursor.
func (a *API) failList(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrBadCursor) {
		var p problems
		p.add(loc("query", "cursor"), "value_error", "Value error, the cursor is invalid or expired", r.URL.Query().Get("cursor"), nil)
		invalid(w, p)
		return
	}
	a.fail(w, r, err)
}

// getRun serves one run; include=session,turns embeds the conversation and
// its transcript. Unknown include tokens are ignored, as Feather does.
func (a *API) getRun(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "run_id")
	if !ok {
		return
	}
	run, conv, err := a.Store.VisibleRun(r.Context(), orgID(r), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := runDetailJSON{runJSON: toRun(run)}
	// Each section is read once however often its token repeats: a
	// request must not turn into thousands of reads.
	include := map[string]bool{}
	for _, tok := range strings.Split(r.URL.Query().Get("include"), ",") {
		include[strings.TrimSpace(tok)] = true
	}
	if include["session"] {
		s, err := a.session(r, conv)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		out.Session = &s
	}
	if include["turns"] {
		turns, err := a.Store.Turns(r.Context(), conv.OrgID, conv.ID)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		tj := toTurns(turns)
		out.Turns = &tj
	}
	writeJSON(w, http.StatusOK, out)
}
