package scorer

import (
	"context"
	"fmt"
	"testing"

	"github.com/plume-evals/plume/internal/eval"
)

// conversation50 is a 50-turn support conversation with ~200-byte turns.
func conversation50() Input {
	in := transcript()
	in.Turns = make([]eval.Turn, 50)
	for i := range in.Turns {
		role := []string{"user", "assistant"}[i%2]
		in.Turns[i] = eval.Turn{
			ID:        fmt.Sprintf("t%02d", i),
			Role:      role,
			Content:   fmt.Sprintf("Turn %d from the %s. We are looking into your order and will get back to you shortly with an update on the delivery date, thank you for your patience while we check with the warehouse.", i, role),
			CreatedAt: t0,
		}
	}
	in.Turns[47].Content += " Your refund has been issued."
	return in
}

// BenchmarkRunExpression is the worker's hot path: a program already in the
// cache run over 50 turns.
func BenchmarkRunExpression(b *testing.B) {
	for _, bm := range []struct{ name, src string }{
		{"size", `conversation.turns.size() > 2`},
		{"exists", `conversation.turns.exists(t, t.role == "assistant" && t.content.contains("refund"))`},
		{"ratio", `double(conversation.turns.filter(t, t.role == "user").size()) / double(conversation.turns.size())`},
		{"matches", `conversation.turns.all(t, !t.content.matches("(?i)\\b(stupid|idiot)\\b"))`},
		{"metadata", `conversation.metadata.csat >= 4`},
	} {
		b.Run(bm.name, func(b *testing.B) {
			in, config := conversation50(), expr(bm.src)
			if _, err := Run(context.Background(), eval.KindExpression, config, in); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Run(context.Background(), eval.KindExpression, config, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCompileExpression is what the cache saves: parse, check and plan.
func BenchmarkCompileExpression(b *testing.B) {
	src := `conversation.turns.exists(t, t.role == "assistant" && t.content.contains("refund"))`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := compile(src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunRegex matches a cached pattern against 50 turns.
func BenchmarkRunRegex(b *testing.B) {
	for _, bm := range []struct {
		name   string
		config map[string]any
	}{
		{"assistant", map[string]any{"pattern": "(?i)refund", "target": "assistant"}},
		{"any,no match", map[string]any{"pattern": `(?i)\b(stupid|idiot)\b`, "must_match": false}},
	} {
		b.Run(bm.name, func(b *testing.B) {
			in := conversation50()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Run(context.Background(), eval.KindRegex, bm.config, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
