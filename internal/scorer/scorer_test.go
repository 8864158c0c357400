package scorer

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plume-evals/plume/internal/eval"
)

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// transcript returns a closed support conversation of four turns: a user
// asks for a refund, the assistant grants it, the user thanks, the assistant
// signs off.
func transcript() Input {
	return Input{
		Conversation: eval.Conversation{
			ID:          "c1",
			AgentID:     "agent-1",
			SessionType: eval.SessionLive,
			Channel:     "chat",
			Status:      "closed",
			Metadata: map[string]any{
				"csat":   4.0,
				"nps":    json.Number("9"),
				"tier":   "gold",
				"tags":   []any{"vip", json.Number("2")},
				"nested": map[string]any{"score": json.Number("0.25")},
			},
		},
		Turns: []eval.Turn{
			{ID: "t1", SessionID: "c1", Seq: 1, Role: "user", Content: "Hi, I want a refund for order 42.", CreatedAt: t0},
			{ID: "t2", SessionID: "c1", Seq: 2, Role: "assistant", Content: "Sorry about that. Your Refund is on its way.", CreatedAt: t0.Add(time.Minute)},
			{ID: "t3", SessionID: "c1", Seq: 3, Role: "user", Content: "Thanks!", CreatedAt: t0.Add(2 * time.Minute)},
			{ID: "t4", SessionID: "c1", Seq: 4, Role: "assistant", Content: "Glad to help.", CreatedAt: t0.Add(3 * time.Minute)},
		},
	}
}

// checkErr fails t unless err is nil when kind is nil, or else is of kind
// and has msg as its first line (compile errors add the source line and a
// caret below).
func checkErr(t *testing.T, err, kind error, msg string) {
	t.Helper()
	if kind == nil {
		if err != nil {
			t.Fatalf("err = %v, want nil", err)
		}
		return
	}
	if !errors.Is(err, kind) {
		t.Fatalf("err = %v, want kind %v", err, kind)
	}
	if got, _, _ := strings.Cut(err.Error(), "\n"); got != msg {
		t.Errorf("message:\n got %s\nwant %s", got, msg)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		kind   string
		config map[string]any
		msg    string // "" when valid
	}{
		{"expression", eval.KindExpression, map[string]any{"expression": "size(conversation.turns) <= 20"}, ""},
		{"expression, extra fields ignored", eval.KindExpression, map[string]any{"expression": "true", "note": 1}, ""},
		{"regex", eval.KindRegex, map[string]any{"pattern": "(?i)refund", "target": "assistant", "must_match": true}, ""},
		{"regex, defaults", eval.KindRegex, map[string]any{"pattern": "refund"}, ""},
		{"expression does not compile", eval.KindExpression, map[string]any{"expression": "foo"},
			"config.expression: ERROR: <input>:1:1: undeclared reference to 'foo'"},
		{"regex does not compile", eval.KindRegex, map[string]any{"pattern": "("},
			"config.pattern: error parsing regexp: missing closing ): `(`"},
		{"nil config", eval.KindExpression, nil, "config.expression: required"},
		{"model_judge", eval.KindModelJudge, map[string]any{"model": "gpt-4o-mini"},
			`kind "model_judge" has no deterministic scorer`},
		{"unknown kind", "python", map[string]any{}, `kind "python" has no deterministic scorer`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Check(tt.kind, tt.config)
			if tt.msg == "" {
				checkErr(t, err, nil, "")
				return
			}
			checkErr(t, err, ErrConfig, tt.msg)
			// Run refuses the same config with the same error.
			_, runErr := Run(context.Background(), tt.kind, tt.config, transcript())
			checkErr(t, runErr, ErrConfig, tt.msg)
		})
	}
}

func TestRunCancelled(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		kind   string
		config map[string]any
	}{
		{"expression", eval.KindExpression, map[string]any{"expression": "true"}},
		{"regex", eval.KindRegex, map[string]any{"pattern": "refund"}},
		{"invalid config", eval.KindRegex, map[string]any{"pattern": "("}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			got, err := Run(ctx, tt.kind, tt.config, transcript())
			if !errors.Is(err, context.Canceled) || errors.Is(err, ErrConfig) || errors.Is(err, ErrEval) {
				t.Fatalf("err = %v, want context.Canceled and neither ErrConfig nor ErrEval", err)
			}
			if diff := cmp.Diff(Result{}, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRunConcurrent runs both kinds from many goroutines at once; with -race
// it checks that the caches and the compiled programs are safe to share.
func TestRunConcurrent(t *testing.T) {
	t.Parallel()
	configs := []struct {
		kind   string
		config map[string]any
		want   float64
	}{
		{eval.KindExpression, map[string]any{"expression": `conversation.turns.exists(t, t.content.contains("refund"))`}, 1},
		{eval.KindExpression, map[string]any{"expression": `double(conversation.turns.filter(t, t.role == "user").size()) / 4.0`}, 0.5},
		{eval.KindRegex, map[string]any{"pattern": "(?i)refund", "target": "assistant"}, 1},
		{eval.KindRegex, map[string]any{"pattern": "never", "must_match": true}, 0},
	}
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			c := configs[i%len(configs)]
			got, err := Run(context.Background(), c.kind, c.config, transcript())
			if err != nil || got.Value != c.want {
				t.Errorf("Run(%v) = %v, %v; want value %v", c.config, got.Value, err, c.want)
			}
		})
	}
	wg.Wait()
}

func TestLRU(t *testing.T) {
	t.Parallel()
	c := newLRU[int](2)
	c.add("a", 1)
	c.add("b", 2)
	if _, ok := c.get("a"); !ok { // a is now the most recent
		t.Fatal("a missing")
	}
	c.add("c", 3) // evicts b
	c.add("a", 10)
	got := map[string]int{}
	for _, k := range []string{"a", "b", "c"} {
		if v, ok := c.get(k); ok {
			got[k] = v
		}
	}
	if diff := cmp.Diff(map[string]int{"a": 10, "c": 3}, got); diff != "" {
		t.Errorf("contents (-want +got):\n%s", diff)
	}
	if c.len() != 2 {
		t.Errorf("len = %d, want 2", c.len())
	}
}

func TestJSONType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    any
		want string
	}{
		{nil, "null"}, {true, "boolean"}, {"s", "string"}, {1.5, "number"}, {7, "number"},
		{json.Number("1"), "number"}, {map[string]any{}, "object"}, {[]any{}, "array"},
		{[]string{}, "[]string"},
	}
	for _, tt := range tests {
		if got := jsonType(tt.v); got != tt.want {
			t.Errorf("jsonType(%#v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}
