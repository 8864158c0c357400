package devstack

import (
	"context"
	"errors"
	"time"

	"github.com/plume-evals/plume/internal/eval"
	"github.com/plume-evals/plume/internal/store"
)

// The dev stack's fixed ids (docs/architecture.md): events/*.json and the
// README's curl lines use them.
const (
	DevOrg          = "00000000-0000-4000-8000-000000000001"
	DemoAgent       = "00000000-0000-4000-8000-0000000000a1"
	DemoConv        = "00000000-0000-4000-8000-0000000000c1"
	DemoRegex       = "00000000-0000-4000-8000-0000000000e1"
	DemoExpression  = "00000000-0000-4000-8000-0000000000e2"
	demoBindingBase = "00000000-0000-4000-8000-0000000000b"
)

// Seed creates the dev organization's key and a small demo: an agent with
// a regex and an expression evaluator bound (the expression one critical)
// and a closed four-turn conversation. It is idempotent.
func Seed(ctx context.Context, st *store.Store, devKey string, now time.Time) error {
	if err := st.PutAPIKey(ctx, eval.APIKey{ID: "dev", OrgID: DevOrg, Name: "dev", Hash: store.HashKey(devKey), CreatedAt: now}); err != nil {
		return err
	}
	evaluators := []eval.Evaluator{
		{ID: DemoRegex, Name: "No promise of a refund", Kind: eval.KindRegex, Format: eval.FormatBoolean, Severity: "high",
			Config: map[string]any{"pattern": `(?i)\bguarantee(d)? (a )?refund\b`, "target": "assistant", "must_match": false}},
		{ID: DemoExpression, Name: "Agent answered every user turn", Kind: eval.KindExpression, Format: eval.FormatScore,
			Severity: "medium", Threshold: 0.5,
			Config: map[string]any{"expression": `conversation.turns.filter(t, t.role == "assistant").size() >= conversation.turns.filter(t, t.role == "user").size()`}},
	}
	for i, e := range evaluators {
		e.OrgID, e.Status, e.CreatedAt, e.UpdatedAt = DevOrg, eval.EvaluatorActive, now, now
		if err := st.PutEvaluator(ctx, e, true); err != nil && !isExists(err) {
			return err
		}
		b := eval.Binding{ID: demoBindingBase + string(rune('1'+i)), OrgID: DevOrg, EvaluatorID: e.ID, Scope: eval.ScopeAgent,
			AgentID: DemoAgent, IsCritical: i == 1, CreatedAt: now}
		if err := st.CreateBinding(ctx, b); err != nil && !errors.Is(err, eval.ErrDuplicate) {
			return err
		}
	}
	if _, err := st.GetConversation(ctx, DevOrg, DemoConv); err == nil {
		return nil
	}
	turns := []eval.Turn{
		{Role: "user", Content: "Hi, my order #1042 arrived broken."},
		{Role: "assistant", Content: "I'm sorry to hear that. I can send a replacement or start a return."},
		{Role: "user", Content: "A replacement please."},
		{Role: "assistant", Content: "Done: a replacement ships today, tracking will follow by email."},
	}
	for i := range turns {
		turns[i].ID, turns[i].SessionID, turns[i].Seq = eval.TurnID(DemoConv, i), DemoConv, i
		turns[i].CreatedAt = now.Add(time.Duration(i) * time.Minute)
	}
	_, err := st.PutConversation(ctx, eval.Conversation{
		ID: DemoConv, OrgID: DevOrg, AgentID: DemoAgent, SessionType: eval.SessionLive, Channel: "chat", Status: "closed",
		Metadata: map[string]any{"csat": 5}, CreatedAt: now, UpdatedAt: now, MessageCount: len(turns),
	}, turns)
	return err
}

// isExists reports a conditional create that found the item already there.
func isExists(err error) bool { return errors.Is(err, eval.ErrInProgress) }
