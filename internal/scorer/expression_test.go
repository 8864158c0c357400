package scorer

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"cel.dev/cel-go/common/overloads"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"github.com/google/go-cmp/cmp"

	"github.com/plume-evals/plume/internal/eval"
)

func TestRunExpression(t *testing.T) {
	t.Parallel()
	pass := Result{Value: 1, Boolean: true, Rationale: "expression returned true"}
	fail := Result{Value: 0, Boolean: true, Rationale: "expression returned false"}
	empty := Input{Conversation: eval.Conversation{AgentID: "agent-1"}}
	tests := []struct {
		name   string
		config map[string]any
		in     *Input // transcript() when nil
		want   Result
		kind   error // nil when Run succeeds
		msg    string
	}{
		// Programs that return a verdict.
		{name: "turn count", config: expr(`conversation.turns.size() > 2`), want: pass},
		{name: "size function", config: expr(`size(conversation.turns) <= 20`), want: pass},
		{name: "turn count, false", config: expr(`conversation.turns.size() > 2`), in: &empty, want: fail},
		{name: "assistant mentions refund", want: pass,
			config: expr(`conversation.turns.exists(t, t.role == "assistant" && t.content.lowerAscii().contains("refund"))`)},
		{name: "assistant mentions refund, case-sensitive", want: fail,
			config: expr(`conversation.turns.exists(t, t.role == "assistant" && t.content.contains("refund"))`)},
		{name: "share of user turns",
			config: expr(`double(conversation.turns.filter(t, t.role == "user").size()) / double(conversation.turns.size())`),
			want:   Result{Value: 0.5, Rationale: "expression returned 0.5"}},
		{name: "metadata double compared with int", config: expr(`conversation.metadata.csat >= 4`), want: pass},
		{name: "metadata json.Number is a number", config: expr(`conversation.metadata.nps == 9 && conversation.metadata.nested.score == 0.25 && conversation.metadata.tags[1] == 2`), want: pass},
		{name: "metadata as a score", config: expr(`conversation.metadata.csat / 5.0`),
			want: Result{Value: 0.8, Rationale: "expression returned 0.8"}},
		{name: "missing metadata key, optional", config: expr(`conversation.metadata.?missing.orValue(5) >= 4`), want: pass},
		{name: "missing metadata key, has", config: expr(`!has(conversation.metadata.csat)`), in: &empty, want: pass},
		{name: "conversation fields", want: pass,
			config: expr(`conversation.channel == "chat" && conversation.session_type == "live" && conversation.agent_id == "agent-1"`)},
		{name: "created_at is a timestamp", want: pass,
			config: expr(`conversation.turns[1].created_at - conversation.turns[0].created_at == duration("1m") && conversation.turns[0].created_at == timestamp("2025-03-01T09:00:00Z")`)},
		{name: "int 1", config: expr(`conversation.turns.size() - 3`), want: Result{Value: 1, Rationale: "expression returned 1"}},
		{name: "int 0", config: expr(`0`), want: Result{Value: 0, Rationale: "expression returned 0"}},
		{name: "uint", config: expr(`1u`), want: Result{Value: 1, Rationale: "expression returned 1"}},
		{name: "dyn bool", config: expr(`conversation.metadata.tier == "gold" ? true : conversation.metadata.csat`), want: pass},
		{name: "extensions", want: pass, config: expr(`cel.bind(words, conversation.turns[0].content.split(" "), ` +
			`words.size() == 8 && math.greatest(1, 2) == 2 && sets.contains([1, 2], [1]) && ` +
			`conversation.turns[0].content.matches("order \\d+") && ` +
			`conversation.turns.all(i, t, t.created_at >= conversation.turns[0].created_at) && ` +
			`lists.range(3) == [0, 1, 2])`)},
		{name: "extra config fields ignored", config: map[string]any{"expression": "true", "threshold": 0.5}, want: pass},
		{name: "null metadata", config: expr(`conversation.metadata.size() == 0`), in: &empty, want: pass},
		{name: "longest expression", config: expr(strings.Repeat(" ", MaxExpressionLen-4) + "true"), want: pass},
		{name: "length counts characters, not bytes", want: pass,
			config: expr(`"` + strings.Repeat("é", MaxExpressionLen-13) + `".size() > 0`)},

		// Invalid configs.
		{name: "missing", config: map[string]any{}, kind: ErrConfig, msg: "config.expression: required"},
		{name: "null", config: map[string]any{"expression": nil}, kind: ErrConfig, msg: "config.expression: required"},
		{name: "empty", config: expr(""), kind: ErrConfig, msg: "config.expression: must not be empty"},
		{name: "number", config: map[string]any{"expression": 1.0}, kind: ErrConfig, msg: "config.expression: must be a string, got number"},
		{name: "object", config: map[string]any{"expression": map[string]any{}}, kind: ErrConfig, msg: "config.expression: must be a string, got object"},
		{name: "too long", config: expr(strings.Repeat(" ", MaxExpressionLen-3) + "true"), kind: ErrConfig,
			msg: "config.expression: must be at most 4096 characters, got 4097"},
		{name: "syntax error", config: expr(`conversation.turns.size( > 2`), kind: ErrConfig,
			msg: "config.expression: ERROR: <input>:1:26: Syntax error: extraneous input '>' expecting {'[', '{', '(', ')', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}"},
		{name: "undeclared variable", config: expr(`foo`), kind: ErrConfig,
			msg: "config.expression: ERROR: <input>:1:1: undeclared reference to 'foo'"},
		{name: "unknown conversation field", config: expr(`conversation.turnz.size() > 2`), kind: ErrConfig,
			msg: "config.expression: ERROR: <input>:1:13: undefined field 'turnz'"},
		{name: "unknown turn field", config: expr(`conversation.turns.exists(t, t.text == "hi")`), kind: ErrConfig,
			msg: "config.expression: ERROR: <input>:1:31: undefined field 'text'"},
		{name: "int divided by double", kind: ErrConfig,
			config: expr(`conversation.turns.filter(t, t.role == "user").size() / double(conversation.turns.size())`),
			msg:    "config.expression: ERROR: <input>:1:55: found no matching overload for '_/_' applied to '(int, double)'"},
		{name: "returns a string", config: expr(`"passed"`), kind: ErrConfig,
			msg: "config.expression: must return a bool or a number in [0, 1], not string"},
		{name: "returns a string field", config: expr(`conversation.channel`), kind: ErrConfig,
			msg: "config.expression: must return a bool or a number in [0, 1], not string"},
		{name: "returns the conversation", config: expr(`conversation`), kind: ErrConfig,
			msg: "config.expression: must return a bool or a number in [0, 1], not conversation"},
		{name: "returns turns", config: expr(`conversation.turns`), kind: ErrConfig,
			msg: "config.expression: must return a bool or a number in [0, 1], not list(turn)"},
		{name: "returns an optional", config: expr(`conversation.metadata.?csat`), kind: ErrConfig,
			msg: "config.expression: must return a bool or a number in [0, 1], not optional_type(dyn)"},
		{name: "returns null", config: expr(`null`), kind: ErrConfig,
			msg: "config.expression: must return a bool or a number in [0, 1], not null_type"},
		{name: "invalid regex literal", config: expr(`conversation.turns[0].content.matches("(")`), kind: ErrConfig,
			msg: "config.expression: ERROR: <input>:1:39: invalid pattern: error parsing regexp: missing closing ): `(`"},
		{name: "regex literal too complex", config: expr(`conversation.turns[0].content.matches(".{0,499}.{0,499}z")`), kind: ErrConfig,
			msg: "config.expression: ERROR: <input>:1:39: invalid pattern: too complex: compiles to 1999 instructions, at most 1000"},
		{name: "regex literal far too complex", config: expr(`matches(conversation.channel, "` + strings.Repeat(".{0,1000}", 100) + `")`), kind: ErrConfig,
			msg: "config.expression: ERROR: <input>:1:31: invalid pattern: too complex: compiles to about 200000 instructions, at most 1000"},
		{name: "computed regex", config: expr(`conversation.turns[0].content.matches(conversation.metadata.tier + "+")`), kind: ErrConfig,
			msg: "config.expression: ERROR: <input>:1:66: the pattern of matches must be a string literal"},
		{name: "bound regex", config: expr(`cel.bind(p, "refund", conversation.turns.exists(t, matches(t.content, p)))`), kind: ErrConfig,
			msg: "config.expression: ERROR: <input>:1:71: the pattern of matches must be a string literal"},
		{name: "invalid timestamp literal", config: expr(`conversation.turns[0].created_at > timestamp("yesterday")`), kind: ErrConfig,
			msg: "config.expression: ERROR: <input>:1:46: invalid timestamp argument"},

		// Programs that fail at run time.
		{name: "returns 2.5", config: expr(`2.5`), kind: ErrEval, msg: "expression: returned 2.5, want a number in [0, 1]"},
		{name: "returns a negative number", config: expr(`0.5 - double(conversation.turns.size())`), kind: ErrEval,
			msg: "expression: returned -3.5, want a number in [0, 1]"},
		{name: "returns int 2", config: expr(`conversation.turns.size() / 2`), kind: ErrEval,
			msg: "expression: returned 2, want a number in [0, 1]"},
		{name: "returns NaN", config: expr(`double(conversation.turns.size()) / double(size(conversation.turns))`), in: &empty,
			kind: ErrEval, msg: "expression: returned NaN, want a number in [0, 1]"},
		{name: "returns a string through dyn", config: expr(`conversation.metadata.tier`), kind: ErrEval,
			msg: "expression: returned a string, want a bool or a number in [0, 1]"},
		{name: "returns a list through dyn", config: expr(`conversation.metadata.tags`), kind: ErrEval,
			msg: "expression: returned a list, want a bool or a number in [0, 1]"},
		{name: "missing metadata key", config: expr(`conversation.metadata.csat >= 4`), in: &empty, kind: ErrEval,
			msg: "expression: no such key: csat"},
		{name: "index out of range", config: expr(`conversation.turns[0].role == "user"`), in: &empty, kind: ErrEval,
			msg: "expression: index out of bounds: 0"},
		{name: "division by zero", config: expr(`conversation.turns.size() / (conversation.turns.size() - 4) == 1`), kind: ErrEval,
			msg: "expression: division by zero"},
		{name: "cost limit, nested comprehensions", config: expr(`lists.range(2000).all(i, lists.range(2000).all(j, i + j >= 0))`),
			kind: ErrEval, msg: "expression: cost limit of 1000000 exceeded"},
		{name: "cost limit, quadratic over turns", in: bigTranscript(2000), kind: ErrEval, msg: "expression: cost limit of 1000000 exceeded",
			config: expr(`conversation.turns.all(a, conversation.turns.all(b, a.role != "" && b.role != ""))`)},
		{name: "cost limit, large string", kind: ErrEval, msg: "expression: cost limit of 1000000 exceeded",
			config: expr(`lists.range(1000000).map(i, string(i)).join(",").size() > 0`)},
		{name: "cost limit, regex priced by its program", kind: ErrEval, msg: "expression: cost limit of 1000000 exceeded",
			config: expr(`lists.range(100000).all(i, conversation.turns.all(t, !t.content.matches(".{0,249}.{0,249}z")))`)},
		{name: "list too large", config: expr(`lists.range(100000000).size() > 0`), kind: ErrEval,
			msg: "expression: lists.range: size 100000000 exceeds maximum allowed (1000000)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := transcript()
			if tt.in != nil {
				in = *tt.in
			}
			got, err := Run(context.Background(), eval.KindExpression, tt.config, in)
			checkErr(t, err, tt.kind, tt.msg)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			// Check agrees with Run on whether the config is valid.
			checkErr(t, Check(eval.KindExpression, tt.config), configKind(tt.kind), tt.msg)
		})
	}
}

// configKind is the error Check gives for a config whose Run gave kind.
func configKind(kind error) error {
	if errors.Is(kind, ErrConfig) {
		return ErrConfig
	}
	return nil
}

func expr(src string) map[string]any { return map[string]any{"expression": src} }

// bigTranscript returns a conversation of n alternating turns.
func bigTranscript(n int) *Input {
	in := transcript()
	in.Turns = make([]eval.Turn, n)
	for i := range in.Turns {
		in.Turns[i] = eval.Turn{ID: "t", Role: []string{"user", "assistant"}[i%2], Content: "hello there", CreatedAt: t0}
	}
	return &in
}

// TestRunExpressionInterrupted cancels ctx while a program that would run
// for about 50ms is evaluating: Run returns the context's error, not ErrEval.
func TestRunExpressionInterrupted(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(2*time.Millisecond, cancel)
	_, err := Run(ctx, eval.KindExpression, expr(`lists.range(2000).all(i, lists.range(2000).all(j, i + j >= 0))`), transcript())
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrEval) {
		t.Fatalf("err = %v, want context.Canceled and not ErrEval", err)
	}
}

// TestExpressionCache checks that a source compiles once and that failures
// are not cached.
func TestExpressionCache(t *testing.T) {
	t.Parallel()
	src := expr(`conversation.turns.size() == 4 && "cache test" != ""`)
	p1, err := compileExpression(src)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := compileExpression(src)
	if err != nil {
		t.Fatal(err)
	}
	if p1 != p2 {
		t.Error("second compile of the same source did not come from the cache")
	}
	bad := `"cache test" + 1`
	if _, err := compileExpression(expr(bad)); !errors.Is(err, ErrConfig) {
		t.Fatalf("err = %v, want ErrConfig", err)
	}
	if _, ok := programs.get(bad); ok {
		t.Error("a source that failed to compile was cached")
	}
}

func TestRegexCost(t *testing.T) {
	t.Parallel()
	text := types.String(strings.Repeat("a", 99))
	tests := []struct {
		name     string
		overload string
		args     []ref.Val
		want     *uint64
	}{
		// 0.025 * (99+1) * max(insts, len(pattern))
		{"short pattern: its length", overloads.MatchesString, []ref.Val{text, types.String("(?i)refund")}, ptr(25)},
		{"global matches", overloads.Matches, []ref.Val{text, types.String("(?i)refund")}, ptr(25)},
		{"counted repeat: its program", overloads.MatchesString, []ref.Val{text, types.String(".{0,249}.{0,249}z")}, ptr(2498)},
		{"invalid pattern: CEL's price", overloads.MatchesString, []ref.Val{text, types.String("(")}, nil},
		{"other function", overloads.ContainsString, []ref.Val{text, types.String("a")}, nil},
		{"not strings", overloads.MatchesString, []ref.Val{types.Int(1), types.String("a")}, nil},
	}
	for _, tt := range tests {
		got := regexCost{}.CallCost("matches", tt.overload, tt.args, types.True)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: cost (-want +got):\n%s", tt.name, diff)
		}
	}
}

func ptr(n uint64) *uint64 { return &n }

func TestNormalize(t *testing.T) {
	t.Parallel()
	in := map[string]any{"a": json.Number("1"), "b": []any{json.Number("1.5"), "x"}, "c": map[string]any{"d": true}}
	got, changed := normalize(in)
	want := map[string]any{"a": int64(1), "b": []any{1.5, "x"}, "c": map[string]any{"d": true}}
	if diff := cmp.Diff(want, got); diff != "" || !changed {
		t.Errorf("normalize (-want +got):\n%s, changed = %v", diff, changed)
	}
	if in["a"] != json.Number("1") {
		t.Error("normalize changed its input")
	}
	if _, changed := normalize(map[string]any{"c": map[string]any{"d": 1.0}}); changed {
		t.Error("normalize reported a change for a map without json.Number")
	}
	if got, _ := normalize(json.Number("1e400")); got != "1e400" {
		t.Errorf("normalize(1e400) = %#v, want the string", got)
	}
}
