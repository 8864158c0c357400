package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/plume-evals/plume/internal/eval"
)

// Documented limits of PUT /v1/v2/conversations/{id}. Turns are stored one
// item each, so no transcript within them meets DynamoDB's item limit.
const (
	maxTurns       = 2000
	maxContent     = 65536 // characters per turn
	maxToolJSON    = 65536 // bytes of tool_calls + tool_results per turn
	maxMetadata    = 16384 // bytes of serialized metadata
	maxChannel     = 64
	recentTurnsLen = 20
)

var (
	sessionTypes    = []string{eval.SessionLive, eval.SessionTest, eval.SessionSimulation}
	sessionStatuses = []string{"queued", "ringing", "active", "paused", "waiting_for_human", "transferred",
		"awaiting_approval", "closed", "expired", "error", "superseded"}
	roles = []string{"user", "assistant", "tool", "system"}
)

// StatusClosed is the conversation status that triggers an automatic
// evaluation.
const StatusClosed = "closed"

func (a *API) putConversation(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "conversation_id")
	if !ok {
		return
	}
	var p problems
	f, err := readBody(r, &p, true)
	if errors.Is(err, errTooLarge) {
		a.fail(w, r, eval.ErrTooLarge)
		return
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if len(p) > 0 {
		invalid(w, p)
		return
	}
	now := a.Now().UTC()
	c := eval.Conversation{
		ID: id, OrgID: orgID(r), AgentID: f.uuid(&p, "agent_id", true), ScenarioID: f.uuid(&p, "scenario_id", false),
		SessionType: f.enum(&p, "session_type", true, "", sessionTypes...),
		Status:      f.enum(&p, "status", true, "", sessionStatuses...),
		StartedAt:   f.time(&p, "started_at"), EndedAt: f.time(&p, "ended_at"),
		CreatedAt: now, UpdatedAt: now,
	}
	c.Channel, _ = f.str(&p, "channel", true, 1, maxChannel)
	c.Metadata = map[string]any{}
	if m, ok := f.object(&p, "metadata"); ok {
		if b, _ := json.Marshal(m); len(b) > maxMetadata {
			p.add(f.l("metadata"), "value_error", fmt.Sprintf("Value error, metadata is %d bytes when serialized; the limit is %d", len(b), maxMetadata), nil, nil)
		}
		c.Metadata = m
	}
	turns := turnsOf(&p, f, id)
	if len(p) > 0 {
		invalid(w, p)
		return
	}
	c.MessageCount = len(turns)
	res, err := a.Store.PutConversation(r.Context(), c, turns)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	// A conversation that arrives closed, and was never evaluated, is
	// evaluated when its agent's config allows its session type. A replay
	// of the same PUT finds it evaluated and starts nothing.
	if c.Status == StatusClosed && res.Generation == "" {
		if err := a.autoEvaluate(r, c); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	stored, err := a.Store.GetConversation(r.Context(), c.OrgID, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	s, err := a.session(r, stored)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	writeJSON(w, status, s)
}

func (a *API) autoEvaluate(r *http.Request, c eval.Conversation) error {
	cfg, err := a.Store.GetEvalConfig(r.Context(), c.OrgID, c.AgentID)
	if err != nil {
		return err
	}
	if !cfg.Allows(c.SessionType) {
		return nil
	}
	task, err := a.Tasks.Reevaluate(r.Context(), c.OrgID, c.ID)
	if errors.Is(err, eval.ErrInProgress) {
		return nil // someone else started it
	}
	if err == nil {
		a.log(r).InfoContext(r.Context(), "automatic evaluation queued", "conversation_id", c.ID, "task_id", task.ID)
	}
	return err
}

// turnsOf validates body.turns; each turn without an id gets a
// deterministic one, so a replayed PUT writes the same turns.
func turnsOf(p *problems, f *fields, convID string) []eval.Turn {
	v, ok := f.m["turns"]
	if !ok || v == nil {
		return nil
	}
	items, isList := v.([]any)
	if !isList {
		p.add(f.l("turns"), "list_type", "Input should be a valid list", v, nil)
		return nil
	}
	if len(items) > maxTurns {
		p.add(f.l("turns"), "too_long", fmt.Sprintf("List should have at most %d items after validation, not %d", maxTurns, len(items)),
			nil, map[string]any{"field_type": "List", "max_length": maxTurns, "actual_length": len(items)})
		return nil
	}
	turns := make([]eval.Turn, 0, len(items))
	for i, it := range items {
		at := append(f.l("turns"), i)
		m, isMap := it.(map[string]any)
		if !isMap {
			p.add(at, "model_attributes_type", "Input should be a valid dictionary or object to extract fields from", it, nil)
			continue
		}
		tf := &fields{m: m, at: at}
		t := eval.Turn{SessionID: convID, Seq: i, Role: tf.enum(p, "role", true, "", roles...)}
		t.ID = tf.uuid(p, "id", false)
		if t.ID == "" {
			t.ID = eval.TurnID(convID, i)
		}
		t.Content, _ = tf.str(p, "content", true, 0, maxContent)
		if ct := tf.time(p, "created_at"); ct != nil {
			t.CreatedAt = *ct
		}
		t.ToolCalls = rawJSON(p, tf, "tool_calls", false)
		t.ToolResults = rawJSON(p, tf, "tool_results", true)
		if len(t.ToolCalls)+len(t.ToolResults) > maxToolJSON {
			p.add(at, "value_error", "Value error, tool_calls and tool_results are over "+strconv.Itoa(maxToolJSON)+" bytes", nil, nil)
		}
		turns = append(turns, t)
	}
	return turns
}

// rawJSON reads an array (or, when objectOK, an object) field as raw JSON.
func rawJSON(p *problems, f *fields, name string, objectOK bool) json.RawMessage {
	v, ok := f.m[name]
	if !ok || v == nil {
		return nil
	}
	switch v.(type) {
	case []any:
	case map[string]any:
		if !objectOK {
			p.add(f.l(name), "list_type", "Input should be a valid list", v, nil)
			return nil
		}
	default:
		p.add(f.l(name), "list_type", "Input should be a valid list", v, nil)
		return nil
	}
	b, _ := json.Marshal(plain(v))
	return b
}

func (a *API) getConversation(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "conversation_id")
	if !ok {
		return
	}
	c, err := a.Store.GetConversation(r.Context(), orgID(r), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	s, err := a.session(r, c)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s)
}

// session renders a conversation with its eval_summary: the stored verdict
// when idle, and while a task holds the guard a live count of the current
// generation in which the task's runs not created yet count as pending (so
// no verdict shows before every planned run has ended).
func (a *API) session(r *http.Request, c eval.Conversation) (sessionJSON, error) {
	sum := c.Summary
	if c.Guard.ActiveTask != "" {
		runs, err := a.Store.RunsOfGeneration(r.Context(), c.OrgID, c.ID, c.Guard.Generation)
		if err != nil {
			return sessionJSON{}, err
		}
		sum = eval.Summarize(runs)
		task, err := a.Store.GetTask(r.Context(), c.OrgID, c.Guard.ActiveTask)
		if err != nil && !errors.Is(err, eval.ErrNotFound) {
			return sessionJSON{}, err
		}
		missing := len(task.RunIDs) - len(runs)
		if task.Kind == eval.TaskReevaluate && missing > 0 {
			sum.Total += missing
			sum.Pending += missing
		}
		if len(runs) == 0 || missing > 0 {
			sum.Status = "pending" // runs of unknown criticality are outstanding
		}
	}
	recent, err := a.Store.RecentTurns(r.Context(), c.OrgID, c.ID, recentTurnsLen)
	if err != nil {
		return sessionJSON{}, err
	}
	return toSession(c, sum, recent), nil
}

func (a *API) deleteConversation(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "conversation_id")
	if !ok {
		return
	}
	if err := a.Store.DeleteConversation(r.Context(), orgID(r), id, a.Now()); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
