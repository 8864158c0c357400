package scorer

import (
	"context"
	"regexp/syntax"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/plume-evals/plume/internal/eval"
)

func TestRunRegex(t *testing.T) {
	t.Parallel()
	noIDs := transcript()
	for i := range noIDs.Turns {
		noIDs.Turns[i].ID = ""
	}
	empty := Input{}
	tests := []struct {
		name   string
		config map[string]any
		in     *Input // transcript() when nil
		want   Result
		msg    string // ErrConfig message; "" when Run succeeds
	}{
		{name: "matches an assistant turn",
			config: map[string]any{"pattern": "(?i)refund", "target": "assistant", "must_match": true},
			want:   Result{Value: 1, Boolean: true, Rationale: "pattern matched in turn 2 (assistant)", Evidence: []string{"t2"}}},
		{name: "defaults: any turn, must match",
			config: map[string]any{"pattern": "(?i)refund"},
			want:   Result{Value: 1, Boolean: true, Rationale: "pattern matched in turn 1 (user) and 1 more turn", Evidence: []string{"t1", "t2"}}},
		{name: "three matches",
			config: map[string]any{"pattern": `[.!]$`},
			want:   Result{Value: 1, Boolean: true, Rationale: "pattern matched in turn 1 (user) and 3 more turns", Evidence: []string{"t1", "t2", "t3", "t4"}}},
		{name: "null fields take their defaults",
			config: map[string]any{"pattern": "Thanks", "target": nil, "must_match": nil},
			want:   Result{Value: 1, Boolean: true, Rationale: "pattern matched in turn 3 (user)", Evidence: []string{"t3"}}},
		{name: "user turns only",
			config: map[string]any{"pattern": "refund", "target": "user"},
			want:   Result{Value: 1, Boolean: true, Rationale: "pattern matched in turn 1 (user)", Evidence: []string{"t1"}}},
		{name: "case-sensitive, no assistant match",
			config: map[string]any{"pattern": "refund", "target": "assistant"},
			want:   Result{Value: 0, Boolean: true, Rationale: "pattern matched no assistant turn (2 searched)"}},
		{name: "must not match and does not",
			config: map[string]any{"pattern": `(?i)\b(stupid|idiot)\b`, "target": "assistant", "must_match": false},
			want:   Result{Value: 1, Boolean: true, Rationale: "pattern matched no assistant turn (2 searched), as required"}},
		{name: "must not match but does",
			config: map[string]any{"pattern": `(?i)sorry`, "target": "any", "must_match": false},
			want:   Result{Value: 0, Boolean: true, Rationale: "pattern must not match but matched in turn 2 (assistant)", Evidence: []string{"t2"}}},
		{name: "no turns",
			config: map[string]any{"pattern": "refund"}, in: &empty,
			want: Result{Value: 0, Boolean: true, Rationale: "pattern matched no turn (0 searched)"}},
		{name: "no turns, must not match",
			config: map[string]any{"pattern": "refund", "target": "user", "must_match": false}, in: &empty,
			want: Result{Value: 1, Boolean: true, Rationale: "pattern matched no user turn (0 searched), as required"}},
		{name: "turns without ids give no evidence",
			config: map[string]any{"pattern": "refund"}, in: &noIDs,
			want: Result{Value: 1, Boolean: true, Rationale: "pattern matched in turn 1 (user)"}},
		{name: "longest pattern",
			config: map[string]any{"pattern": "[" + strings.Repeat("a", MaxPatternLen-2) + "]"},
			want:   Result{Value: 1, Boolean: true, Rationale: "pattern matched in turn 1 (user) and 3 more turns", Evidence: []string{"t1", "t2", "t3", "t4"}}},
		{name: "extra fields ignored",
			config: map[string]any{"pattern": "Glad", "flags": "i"},
			want:   Result{Value: 1, Boolean: true, Rationale: "pattern matched in turn 4 (assistant)", Evidence: []string{"t4"}}},

		{name: "missing pattern", config: map[string]any{"target": "any"}, msg: "config.pattern: required"},
		{name: "null pattern", config: map[string]any{"pattern": nil}, msg: "config.pattern: required"},
		{name: "nil config", config: nil, msg: "config.pattern: required"},
		{name: "empty pattern", config: map[string]any{"pattern": ""}, msg: "config.pattern: must not be empty"},
		{name: "pattern not a string", config: map[string]any{"pattern": []any{"a"}}, msg: "config.pattern: must be a string, got array"},
		{name: "pattern too long", config: map[string]any{"pattern": strings.Repeat("é", MaxPatternLen+1)},
			msg: "config.pattern: must be at most 1024 characters, got 1025"},
		{name: "pattern does not compile", config: map[string]any{"pattern": "(?i)refund("},
			msg: "config.pattern: error parsing regexp: missing closing ): `(?i)refund(`"},
		{name: "backreference is not RE2", config: map[string]any{"pattern": `(a)\1`},
			msg: "config.pattern: error parsing regexp: invalid escape sequence: `\\1`"},
		{name: "repeat count too large", config: map[string]any{"pattern": "a{1001}"},
			msg: "config.pattern: error parsing regexp: invalid repeat count: `{1001}`"},
		{name: "pattern compiles too large", config: map[string]any{"pattern": ".{0,499}.{0,499}z"},
			msg: "config.pattern: too complex: compiles to 1999 instructions, at most 1000"},
		{name: "pattern compiles far too large", config: map[string]any{"pattern": strings.Repeat(".{0,1000}", 100)},
			msg: "config.pattern: too complex: compiles to about 200000 instructions, at most 1000"},
		{name: "pattern at the instruction limit", config: map[string]any{"pattern": "[^z]{499}[^z]{497}z"},
			want: Result{Value: 0, Boolean: true, Rationale: "pattern matched no turn (4 searched)"}},
		{name: "unknown target", config: map[string]any{"pattern": "a", "target": "bot"},
			msg: `config.target: must be one of assistant, user, any, got "bot"`},
		{name: "empty target", config: map[string]any{"pattern": "a", "target": ""},
			msg: `config.target: must be one of assistant, user, any, got ""`},
		{name: "long target is cut in the message", config: map[string]any{"pattern": "a", "target": strings.Repeat("x", 100)},
			msg: `config.target: must be one of assistant, user, any, got "` + strings.Repeat("x", 40) + `"`},
		{name: "target not a string", config: map[string]any{"pattern": "a", "target": 1.0},
			msg: "config.target: must be a string, got number"},
		{name: "must_match a string", config: map[string]any{"pattern": "a", "must_match": "yes"},
			msg: "config.must_match: must be a boolean, got string"},
		{name: "must_match a number", config: map[string]any{"pattern": "a", "must_match": 1.0},
			msg: "config.must_match: must be a boolean, got number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := transcript()
			if tt.in != nil {
				in = *tt.in
			}
			kind := error(nil)
			if tt.msg != "" {
				kind = ErrConfig
			}
			got, err := Run(context.Background(), eval.KindRegex, tt.config, in)
			checkErr(t, err, kind, tt.msg)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			checkErr(t, Check(eval.KindRegex, tt.config), kind, tt.msg)
		})
	}
}

// TestEstimateInsts checks that the estimate by which compileRegex refuses
// huge patterns stays close to the exact size for every kind of node, so
// that refusing above 4*MaxPatternInsts never refuses a pattern that
// compiles within MaxPatternInsts.
func TestEstimateInsts(t *testing.T) {
	t.Parallel()
	for _, p := range []string{
		`refund`, `(?i)refund`, `a|b|c`, `(a)`, `a*`, `a+`, `a?`, `a*?`, `(?:ab)*`, `(ab)+`, `x{3}`, `x{2,5}`, `x{2,}`,
		`x{0,}`, `[a-z]{10,20}`, `^\bfoo$`, `.{0,249}.{0,249}z`, `[^z]{499}[^z]{497}z`, `(?i)\b(sorry|apolog\w+)\b`,
		`[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}`, `((a|b){3}c?){4}`, `\pL{100}`, `(?s).`, ``,
	} {
		tree, err := syntax.Parse(p, syntax.Perl)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		est := estimateInsts(tree)
		prog, err := syntax.Compile(tree.Simplify())
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		exact := int64(len(prog.Inst))
		if est > 4*exact || exact > 4*est {
			t.Errorf("%q: estimate %d, exact %d", p, est, exact)
		}
	}
}
