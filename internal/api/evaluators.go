package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/plume-evals/plume/internal/eval"
)

var (
	kinds      = []string{eval.KindModelJudge, eval.KindExpression, eval.KindRegex}
	formats    = []string{eval.FormatScore, eval.FormatBoolean}
	severities = []string{"info", "low", "medium", "high", "critical"}
	evStatuses = []string{eval.EvaluatorActive, eval.EvaluatorArchived}
	providers  = []string{"openai", "anthropic", "bedrock"}
)

const (
	maxName        = 200
	maxDescription = 2000
	maxPrompt      = 20000
	maxConfig      = 32768 // bytes of serialized config; fits every config the scorers accept
)

// evaluatorFrom applies the body's fields to base (the defaults on create,
// the stored evaluator on update) and validates the result as a whole.
func (a *API) evaluatorFrom(p *problems, f *fields, base eval.Evaluator, create bool) (eval.Evaluator, error) {
	e := base
	if name, ok := f.str(p, "name", create, 1, maxName); ok {
		e.Name = name
	}
	if f.has("description") {
		if d, ok := f.nullableStr(p, "description", maxDescription); ok {
			e.Description = d
		}
	}
	e.Kind = f.enum(p, "kind", false, e.Kind, kinds...)
	e.Format = f.enum(p, "format", false, e.Format, formats...)
	e.Severity = f.enum(p, "severity", false, e.Severity, severities...)
	if prompt, ok := f.str(p, "prompt", false, 0, maxPrompt); ok {
		e.Prompt = prompt
	}
	e.Threshold = f.number(p, "threshold", e.Threshold, 0, 1)
	if cfg, ok := f.object(p, "config"); ok {
		// Bounded like metadata: an evaluator is one item (400 KB in
		// DynamoDB) and every run copies its config; a larger one was a 500.
		if b, _ := json.Marshal(cfg); len(b) > maxConfig {
			p.add(f.l("config"), "value_error", fmt.Sprintf("Value error, config is %d bytes when serialized; the limit is %d", len(b), maxConfig), nil, nil)
		}
		e.Config = cfg
	}
	if !create {
		e.Status = f.enum(p, "status", false, e.Status, evStatuses...)
	}
	if e.Config == nil {
		e.Config = map[string]any{}
	}
	if len(*p) > 0 {
		return e, nil
	}
	switch e.Kind {
	case eval.KindModelJudge:
		if e.Prompt == "" {
			p.add(f.l("prompt"), "missing", "Field required", nil, map[string]any{"reason": "a model_judge evaluator needs a prompt"})
		}
		cf := &fields{m: e.Config, at: f.l("config")}
		cf.enum(p, "provider", false, "openai", providers...)
		cf.str(p, "model", false, 1, 200)
		cf.number(p, "temperature", 0, 0, 2)
		if v, ok := e.Config["max_tokens"]; ok {
			if n, isInt := v.(int64); !isInt || n < 1 || n > 16384 {
				p.add(cf.l("max_tokens"), "int_type", "Input should be a valid integer between 1 and 16384", v, nil)
			}
		}
	default:
		if a.Check != nil {
			if err := a.Check(e.Kind, e.Config); err != nil {
				return e, eval.Errorf(eval.ErrInvalid, "invalid %s config: %s", e.Kind, safeMessage(err))
			}
		}
	}
	return e, nil
}

// safeMessage is the client-safe text of a config error.
func safeMessage(err error) string {
	if m := eval.Message(err); m != "" {
		return m
	}
	return err.Error()
}

func (a *API) createEvaluator(w http.ResponseWriter, r *http.Request) {
	f, p, ok := a.body(w, r)
	if !ok {
		return
	}
	now := a.Now().UTC()
	base := eval.Evaluator{ID: a.NewID(), OrgID: orgID(r), Kind: eval.KindModelJudge, Format: eval.FormatScore,
		Severity: "medium", Threshold: 0.5, Status: eval.EvaluatorActive, CreatedAt: now, UpdatedAt: now}
	e, err := a.evaluatorFrom(&p, f, base, true)
	if a.answered(w, r, p, err) {
		return
	}
	if err := a.Store.PutEvaluator(r.Context(), e, true); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toEvaluator(e))
}

func (a *API) updateEvaluator(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "evaluator_id")
	if !ok {
		return
	}
	f, p, ok := a.body(w, r)
	if !ok {
		return
	}
	base, err := a.Store.GetEvaluator(r.Context(), orgID(r), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	e, err := a.evaluatorFrom(&p, f, base, false)
	if a.answered(w, r, p, err) {
		return
	}
	e.UpdatedAt = a.Now().UTC()
	if err := a.Store.PutEvaluator(r.Context(), e, false); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toEvaluator(e))
}

// body reads a required JSON object body, answering 413 or 422 itself.
func (a *API) body(w http.ResponseWriter, r *http.Request) (*fields, problems, bool) {
	var p problems
	f, err := readBody(r, &p, true)
	switch {
	case errors.Is(err, errTooLarge):
		a.fail(w, r, eval.ErrTooLarge)
		return nil, nil, false
	case err != nil:
		a.fail(w, r, err)
		return nil, nil, false
	case len(p) > 0:
		invalid(w, p)
		return nil, nil, false
	}
	return f, p, true
}

// answered writes the 422 or the error, if any, and reports whether it did.
func (a *API) answered(w http.ResponseWriter, r *http.Request, p problems, err error) bool {
	if len(p) > 0 {
		invalid(w, p)
		return true
	}
	if err != nil {
		a.fail(w, r, err)
		return true
	}
	return false
}

func (a *API) listEvaluators(w http.ResponseWriter, r *http.Request) {
	var p problems
	q := query{&p, r.URL.Query()}
	status, limit := q.enum("status", evStatuses...), q.limit()
	if len(p) > 0 {
		invalid(w, p)
		return
	}
	items, next, err := a.Store.ListEvaluators(r.Context(), orgID(r), status, limit, q.str("cursor"))
	if err != nil {
		a.failList(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list(items, next, toEvaluator))
}
