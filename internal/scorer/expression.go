package scorer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/overloads"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/ext"
	"cel.dev/cel-go/interpreter"

	"github.com/plume-evals/plume/internal/eval"
)

// celConversation is the `conversation` variable as CEL sees it. Its CEL
// type name is scorer.celConversation; the cel tags are the field names.
type celConversation struct {
	Turns       []celTurn      `cel:"turns"`
	Channel     string         `cel:"channel"`
	SessionType string         `cel:"session_type"`
	AgentID     string         `cel:"agent_id"`
	Metadata    map[string]any `cel:"metadata"`
}

// celTurn is one element of conversation.turns.
type celTurn struct {
	Role      string    `cel:"role"`
	Content   string    `cel:"content"`
	CreatedAt time.Time `cel:"created_at"`
}

const (
	// interruptEvery is how many comprehension iterations run between two
	// looks at ctx.
	interruptEvery = 100
	// programCacheSize bounds the compiled-program cache.
	programCacheSize = 256
)

var (
	celEnv   = sync.OnceValues(newEnv)
	programs = newLRU[*program](programCacheSize)
)

// newEnv builds the one CEL environment every program is compiled in.
func newEnv() (*cel.Env, error) {
	return cel.NewEnv(
		ext.NativeTypes(ext.ParseStructTags(true),
			reflect.TypeFor[celConversation](), reflect.TypeFor[celTurn]()),
		cel.Variable("conversation", cel.ObjectType("scorer.celConversation")),
		cel.OptionalTypes(),
		cel.CrossTypeNumericComparisons(true),
		cel.DefaultUTCTimeZone(true),
		ext.Strings(),
		ext.Lists(),
		ext.Math(),
		ext.Sets(),
		ext.Bindings(),
		ext.TwoVarComprehensions(),
		// Reject bad literals when the program compiles, not when it runs.
		cel.ASTValidators(
			cel.ValidateDurationLiterals(),
			cel.ValidateTimestampLiterals(),
			literalPatterns{},
		),
	)
}

// program is a compiled, type-checked expression, safe for concurrent use.
type program struct {
	prg cel.Program
}

// compileExpression validates an expression config and returns its program,
// from the cache when the same source compiled before.
func compileExpression(config map[string]any) (*program, error) {
	src, err := requiredString(config, "expression", MaxExpressionLen)
	if err != nil {
		return nil, err
	}
	if p, ok := programs.get(src); ok {
		return p, nil
	}
	p, err := compile(src)
	if err != nil {
		return nil, err
	}
	programs.add(src, p)
	return p, nil
}

// compile parses, type-checks and plans src. This is the expensive step
// (over a hundred microseconds) that the cache saves.
func compile(src string) (_ *program, err error) {
	defer func() {
		// The source comes from a client; a bug in CEL must not take the
		// API or the worker down with it.
		if r := recover(); r != nil {
			err = configErr("config.expression: the CEL compiler failed on this program")
		}
	}()
	env, err := celEnv()
	if err != nil {
		return nil, fmt.Errorf("scorer: build CEL environment: %w", err)
	}
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		return nil, configErr("config.expression: %s", issuesText(iss))
	}
	switch t := ast.OutputType(); t.Kind() {
	case types.BoolKind, types.IntKind, types.UintKind, types.DoubleKind, types.DynKind:
	default:
		return nil, configErr("config.expression: must return a bool or a number in [0, 1], not %s", typeName(t.String()))
	}
	prg, err := env.Program(ast,
		cel.CostLimit(CostLimit),
		cel.CostTracking(regexCost{}),
		cel.InterruptCheckFrequency(interruptEvery),
		// Fold constants and compile constant regexes once, not per Run.
		cel.EvalOptions(cel.OptOptimize),
	)
	if err != nil {
		// Folding evaluates the constant parts of the program now.
		return nil, configErr("config.expression: %v", err)
	}
	return &program{prg: prg}, nil
}

// literalPatterns requires the pattern of every matches call to be a string
// literal that compileRegex accepts. So every regex a program uses is
// checked, bounded and compiled once, when the program is; none is compiled
// while it runs, where a loop could compile a huge one again and again.
type literalPatterns struct{}

// Name implements cel.ASTValidator.
func (literalPatterns) Name() string { return "plume.literal_patterns" }

// Validate implements cel.ASTValidator.
func (literalPatterns) Validate(_ *cel.Env, _ cel.ValidatorConfig, a *celast.AST, iss *cel.Issues) {
	for _, call := range celast.MatchDescendants(celast.NavigateAST(a), celast.FunctionMatcher(overloads.Matches)) {
		c := call.AsCall()
		i := 1 // matches(text, pattern)
		if c.IsMemberFunction() {
			i = 0 // text.matches(pattern)
		}
		if len(c.Args()) <= i {
			continue
		}
		arg := c.Args()[i]
		var source string
		ok := false
		if arg.Kind() == celast.LiteralKind {
			source, ok = arg.AsLiteral().Value().(string)
		}
		if !ok {
			iss.ReportErrorAtID(arg.ID(), "the pattern of matches must be a string literal")
			continue
		}
		if _, err := compileRegex(source); err != nil {
			iss.ReportErrorAtID(arg.ID(), "invalid pattern: %v", err)
		}
	}
}

// regexCost prices a call of matches by the size of its pattern's program
// rather than the length of its source, which is what CEL charges: matching
// takes time proportional to the text times the live instructions, and a
// short pattern such as .{0,249}.{0,249}z compiles to a thousand of them.
// With CEL's price a loop over such matches ran for 20 seconds before the
// cost limit stopped it; with this one, a twentieth of a second.
type regexCost struct{}

// CallCost implements cost.ActualCostEstimator: CEL's price with the
// pattern's length replaced by its program size when that is larger,
// ⌈0.025·(len(text)+1)·max(insts, len(pattern))⌉; nil (CEL's price) for
// other calls.
func (regexCost) CallCost(_, overloadID string, args []ref.Val, _ ref.Val) *uint64 {
	if overloadID != overloads.Matches && overloadID != overloads.MatchesString || len(args) != 2 {
		return nil
	}
	text, ok1 := args[0].(types.String)
	source, ok2 := args[1].(types.String)
	if !ok1 || !ok2 {
		return nil
	}
	p, err := compileRegex(string(source)) // in the cache: literalPatterns compiled it
	if err != nil {
		return nil
	}
	c := uint64(math.Ceil(0.025 * float64(len(text)+1) * float64(max(p.insts, len(source)))))
	return &c
}

// issuesText renders compile errors one per line, each with its location and
// the source line it points at.
func issuesText(iss *cel.Issues) string {
	return strings.ReplaceAll(iss.Err().Error(), " (in container '')", "")
}

// typeName names a CEL type for a message, hiding the Go names of the
// conversation types.
func typeName(name string) string {
	return celNames.Replace(name)
}

var celNames = strings.NewReplacer("scorer.celConversation", "conversation", "scorer.celTurn", "turn")

// run evaluates the program against in.
func (p *program) run(ctx context.Context, in Input) (Result, error) {
	out, _, err := p.prg.ContextEval(ctx, map[string]any{"conversation": newCELConversation(in)})
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return Result{}, fmt.Errorf("scorer: expression interrupted: %w", ctxErr)
		}
		var cancelled interpreter.EvalCancelledError
		if errors.As(err, &cancelled) && cancelled.Cause == interpreter.CostLimitExceeded {
			return Result{}, evalErr("expression: cost limit of %d exceeded", CostLimit)
		}
		return Result{}, evalErr("expression: %v", err)
	}
	return expressionResult(out)
}

// expressionResult turns a program's value into a Result.
func expressionResult(out ref.Val) (Result, error) {
	var v float64
	switch x := out.(type) {
	case types.Bool:
		if x {
			return Result{Value: 1, Boolean: true, Rationale: "expression returned true"}, nil
		}
		return Result{Value: 0, Boolean: true, Rationale: "expression returned false"}, nil
	case types.Int:
		v = float64(x)
	case types.Uint:
		v = float64(x)
	case types.Double:
		v = float64(x)
	default:
		return Result{}, evalErr("expression: returned a %s, want a bool or a number in [0, 1]", typeName(out.Type().TypeName()))
	}
	s := strconv.FormatFloat(v, 'g', -1, 64)
	if math.IsNaN(v) || v < 0 || v > 1 {
		return Result{}, evalErr("expression: returned %s, want a number in [0, 1]", s)
	}
	return Result{Value: v, Rationale: "expression returned " + s}, nil
}

// newCELConversation builds the `conversation` variable.
func newCELConversation(in Input) celConversation {
	turns := make([]celTurn, len(in.Turns))
	for i, t := range in.Turns {
		turns[i] = celTurn{Role: t.Role, Content: t.Content, CreatedAt: t.CreatedAt}
	}
	c := in.Conversation
	return celConversation{
		Turns:       turns,
		Channel:     c.Channel,
		SessionType: c.SessionType,
		AgentID:     c.AgentID,
		Metadata:    metadata(c),
	}
}

// metadata returns the conversation's metadata in the shapes CEL's type
// adapter knows, never nil.
func metadata(c eval.Conversation) map[string]any {
	if c.Metadata == nil {
		return map[string]any{}
	}
	m, _ := normalize(c.Metadata)
	return m.(map[string]any)
}

// normalize replaces json.Number, which CEL would see as a string, with an
// int64 or a float64, copying only the containers that hold one. changed
// reports whether it replaced anything.
func normalize(v any) (out any, changed bool) {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, true
		}
		if f, err := x.Float64(); err == nil {
			return f, true
		}
		return string(x), true
	case map[string]any:
		var m map[string]any
		for k, e := range x {
			if n, ok := normalize(e); ok {
				if m == nil {
					m = maps.Clone(x)
				}
				m[k] = n
			}
		}
		if m != nil {
			return m, true
		}
	case []any:
		var l []any
		for i, e := range x {
			if n, ok := normalize(e); ok {
				if l == nil {
					l = slices.Clone(x)
				}
				l[i] = n
			}
		}
		if l != nil {
			return l, true
		}
	}
	return v, false
}
