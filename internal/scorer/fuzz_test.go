package scorer

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/plume-evals/plume/internal/eval"
)

// runaway is how long one Check and Run may take in a fuzz test: fifty times
// what the slowest program the cost limit allows takes on an idle machine,
// so that only a real runaway fails.
const runaway = 5 * time.Second

// checkResult fails t unless Run's answer keeps the package contract: an
// error of kind ErrConfig or ErrEval with a message, or a Result whose Value
// is in [0, 1] (and 0 or 1 when Boolean).
func checkResult(t *testing.T, got Result, err error) {
	t.Helper()
	if err != nil {
		if !errors.Is(err, ErrConfig) && !errors.Is(err, ErrEval) {
			t.Fatalf("err = %v, want ErrConfig or ErrEval", err)
		}
		if err.Error() == "" {
			t.Fatal("error with an empty message")
		}
		return
	}
	if math.IsNaN(got.Value) || got.Value < 0 || got.Value > 1 {
		t.Fatalf("Value = %v, want it in [0, 1]", got.Value)
	}
	if got.Boolean && got.Value != 0 && got.Value != 1 {
		t.Fatalf("Boolean result with Value %v", got.Value)
	}
	if got.Rationale == "" {
		t.Fatal("empty rationale")
	}
}

// FuzzExpression runs arbitrary CEL sources: none may panic or run away, and
// Check and Run must agree on which are invalid. Run it with
// -fuzzminimizetime 2s: minimizing a long input for the default minute
// stalls the run.
func FuzzExpression(f *testing.F) {
	for _, src := range []string{
		`conversation.turns.size() > 2`,
		`conversation.turns.exists(t, t.role == "assistant" && t.content.contains("refund"))`,
		`double(conversation.turns.filter(t, t.role == "user").size()) / double(conversation.turns.size())`,
		`conversation.metadata.csat >= 4`,
		`conversation.metadata.?nps.orValue(0) / 10.0`,
		`conversation.turns.all(i, t, t.created_at >= conversation.turns[0].created_at)`,
		`cel.bind(w, conversation.turns[0].content.split(" "), w.size() > 3)`,
		`conversation.turns.exists(t, t.content.matches("(?i)order \\d+"))`,
		`conversation.turns.all(t, !matches(t.content, conversation.metadata.tier + "{3}"))`,
		`lists.range(2000).all(i, lists.range(2000).all(j, i + j >= 0))`,
		`math.least(1, conversation.turns.size())`,
		`2.5`, `"abc"`, `conversation.metadata.tier`, `1/0 == 1`, `foo(`,
	} {
		f.Add(src)
	}
	in := transcript()
	f.Fuzz(func(t *testing.T, src string) {
		config := map[string]any{"expression": src}
		start := time.Now()
		checkErr := Check(eval.KindExpression, config)
		got, err := Run(context.Background(), eval.KindExpression, config, in)
		if d := time.Since(start); d > runaway {
			t.Fatalf("took %v", d)
		}
		checkResult(t, got, err)
		if (checkErr != nil) != errors.Is(err, ErrConfig) {
			t.Fatalf("Check = %v but Run = %v", checkErr, err)
		}
	})
}

// FuzzRegexConfig runs arbitrary patterns and targets: none may panic or
// run away, and Check and Run must agree. must is 0 for an absent
// must_match, 1 for true, anything else for false.
func FuzzRegexConfig(f *testing.F) {
	f.Add("(?i)refund", "assistant", byte(1))
	f.Add(`\b(sorry|apolog\w+)\b`, "any", byte(2))
	f.Add("^Thanks!$", "user", byte(0))
	f.Add("(", "any", byte(0))
	f.Add("a{1001}", "bot", byte(1))
	f.Add("", "", byte(0))
	f.Add(`[\p{Greek}]+|\x{10FFFF}`, "assistant", byte(2))
	in := transcript()
	f.Fuzz(func(t *testing.T, pattern, target string, must byte) {
		config := map[string]any{"pattern": pattern, "target": target}
		if target == "" {
			delete(config, "target")
		}
		if must > 0 {
			config["must_match"] = must == 1
		}
		start := time.Now()
		checkErr := Check(eval.KindRegex, config)
		got, err := Run(context.Background(), eval.KindRegex, config, in)
		if d := time.Since(start); d > runaway {
			t.Fatalf("took %v", d)
		}
		checkResult(t, got, err)
		if errors.Is(err, ErrEval) {
			t.Fatalf("regex Run = %v, want no ErrEval", err)
		}
		if (checkErr != nil) != (err != nil) {
			t.Fatalf("Check = %v but Run = %v", checkErr, err)
		}
		if err == nil && !got.Boolean {
			t.Fatal("regex result is not Boolean")
		}
	})
}
