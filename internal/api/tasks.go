package api

import (
	"net/http"

	"github.com/plume-evals/plume/internal/eval"
)

// pathID validates the path id name; on failure it has written the 422.
func pathID(w http.ResponseWriter, r *http.Request, name string) (string, bool) {
	var p problems
	id := p.uuid("path", name, r.PathValue(name))
	if len(p) > 0 {
		invalid(w, p)
		return "", false
	}
	return id, true
}

// reevaluate serves POST /v1/v2/conversations/{conversation_id}/reevaluate
// and its legacy alias: one transaction decides 202 or 409, then one
// message is sent.
func (a *API) reevaluate(param string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := pathID(w, r, param)
		if !ok {
			return
		}
		task, err := a.Tasks.Reevaluate(r.Context(), orgID(r), id)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		a.log(r).InfoContext(r.Context(), "reevaluate accepted", "conversation_id", id, "task_id", task.ID)
		writeJSON(w, http.StatusAccepted, taskAccepted{task.ID, eval.TaskQueued})
	}
}

func (a *API) retryRun(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "run_id")
	if !ok {
		return
	}
	task, err := a.Tasks.Retry(r.Context(), orgID(r), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.log(r).InfoContext(r.Context(), "retry accepted", "run_id", id, "task_id", task.ID)
	writeJSON(w, http.StatusAccepted, taskAccepted{task.ID, eval.TaskQueued})
}

// getTask shows a task's progress: counted from its runs while it works,
// from the task's final tally once it completed.
func (a *API) getTask(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "task_id")
	if !ok {
		return
	}
	t, err := a.Store.GetTask(r.Context(), orgID(r), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if t.Status != eval.TaskCompleted && len(t.RunIDs) > 0 {
		runs, err := a.Store.GetRuns(r.Context(), t.OrgID, t.RunIDs)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		t.Total, t.Completed, t.Failed, t.Errored, t.Pending = len(t.RunIDs), 0, 0, 0, 0
		for _, rid := range t.RunIDs {
			run, ok := runs[rid]
			switch {
			case !ok:
				t.Pending++
			case run.TaskID != t.ID && t.Kind == eval.TaskRetry:
				t.Pending++
			default:
				count(&t, run.Status)
			}
		}
	} else if t.Status == eval.TaskCompleted {
		t.Pending = 0
	}
	writeJSON(w, http.StatusOK, toTask(t))
}

func count(t *eval.Task, status string) {
	switch status {
	case eval.StatusCompleted:
		t.Completed++
	case eval.StatusFailed:
		t.Failed++
	case eval.StatusErrored:
		t.Errored++
	default:
		t.Pending++
	}
}
