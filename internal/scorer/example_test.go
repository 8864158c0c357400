package scorer_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/plume-evals/plume/internal/eval"
	"github.com/plume-evals/plume/internal/scorer"
)

func Example() {
	in := scorer.Input{
		Conversation: eval.Conversation{Channel: "chat", Metadata: map[string]any{"csat": 4.0}},
		Turns: []eval.Turn{
			{ID: "t1", Role: "user", Content: "I want my money back.", CreatedAt: time.Now()},
			{ID: "t2", Role: "assistant", Content: "Your refund is on its way.", CreatedAt: time.Now()},
		},
	}
	ctx := context.Background()

	res, err := scorer.Run(ctx, eval.KindRegex, map[string]any{"pattern": "(?i)refund", "target": "assistant"}, in)
	fmt.Println(res.Value, res.Rationale, res.Evidence, err)

	res, err = scorer.Run(ctx, eval.KindExpression, map[string]any{"expression": "conversation.metadata.csat / 5.0"}, in)
	fmt.Println(res.Value, res.Rationale, err)

	_, err = scorer.Run(ctx, eval.KindExpression, map[string]any{"expression": "conversation.metadata.csat"}, in)
	fmt.Println(errors.Is(err, scorer.ErrEval), err)

	err = scorer.Check(eval.KindRegex, map[string]any{"pattern": "refund", "must_match": "yes"})
	fmt.Println(errors.Is(err, scorer.ErrConfig), err)
	// Output:
	// 1 pattern matched in turn 2 (assistant) [t2] <nil>
	// 0.8 expression returned 0.8 <nil>
	// true expression: returned 4, want a number in [0, 1]
	// true config.must_match: must be a boolean, got string
}
