package scorer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/plume-evals/plume/internal/eval"
)

// Input is what a deterministic evaluator sees: the conversation and its
// turns in transcript order.
type Input struct {
	Conversation eval.Conversation
	Turns        []eval.Turn
}

// Result is one verdict.
type Result struct {
	// Value is in [0, 1]; it is 1 or 0 when Boolean is set.
	Value float64
	// Boolean reports that the program or pattern produced a bool.
	Boolean bool
	// Rationale is a short explanation for a human, such as
	// `pattern matched in turn 3 (assistant)` or `expression returned 0.8`.
	Rationale string
	// Evidence holds the ids of the turns that support the verdict (for
	// regex, the matching turns); nil when there are none.
	Evidence []string
}

// Error kinds, matched with errors.Is. The message of an error of either
// kind is safe to show a client.
var (
	// ErrConfig reports an invalid evaluator config: a missing or
	// wrong-typed field, a limit exceeded, a program or pattern that does
	// not compile.
	ErrConfig = errors.New("invalid evaluator config")
	// ErrEval reports a program that failed at run time: cost limit
	// exceeded, runtime error, or a result that is not a bool or a number
	// in [0, 1].
	ErrEval = errors.New("evaluation failed")
)

// Limits on configs and programs.
const (
	// MaxExpressionLen is the most characters config.expression may have.
	MaxExpressionLen = 4096
	// MaxPatternLen is the most characters config.pattern may have.
	MaxPatternLen = 1024
	// MaxPatternInsts is the most instructions a regex may compile to,
	// in config.pattern or in a CEL program. Matching takes time
	// proportional to the text's length times the live instructions, up
	// to this many: a realistic pattern compiles to tens or hundreds and
	// scans a MiB in milliseconds; a contrived one at the limit
	// ([^z]{499}[^z]{497}z) takes tens of seconds per MiB.
	MaxPatternInsts = 1000
	// CostLimit is the most an expression may spend in one Run, in units
	// of CEL's cost model (roughly one per operation, plus one per ten
	// bytes of a string scanned).
	CostLimit = 1_000_000
)

// kindError is an error of kind ErrConfig or ErrEval whose message is only
// the detail, so that it can be shown as is.
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

func configErr(format string, args ...any) error {
	return &kindError{ErrConfig, fmt.Sprintf(format, args...)}
}

func evalErr(format string, args ...any) error {
	return &kindError{ErrEval, fmt.Sprintf(format, args...)}
}

// Check validates the config of an evaluator of kind "expression" or
// "regex", compiling its program or pattern. It returns nil or an error of
// kind ErrConfig, also for any other kind.
func Check(kind string, config map[string]any) error {
	switch kind {
	case eval.KindExpression:
		_, err := compileExpression(config)
		return err
	case eval.KindRegex:
		_, err := parseRegex(config)
		return err
	default:
		return configErr("kind %q has no deterministic scorer", kind)
	}
}

// Run evaluates a snapshot's kind and config against in. It returns an error
// of kind ErrConfig when the config is invalid, ErrEval when the program
// fails while running, or ctx's error when ctx ends first.
func Run(ctx context.Context, kind string, config map[string]any, in Input) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("scorer: %w", err)
	}
	switch kind {
	case eval.KindExpression:
		p, err := compileExpression(config)
		if err != nil {
			return Result{}, err
		}
		return p.run(ctx, in)
	case eval.KindRegex:
		r, err := parseRegex(config)
		if err != nil {
			return Result{}, err
		}
		return r.run(ctx, in)
	default:
		return Result{}, configErr("kind %q has no deterministic scorer", kind)
	}
}

// stringField reads config[name] as a string of at most maxLen characters.
// found is false when the field is absent or null.
func stringField(config map[string]any, name string, maxLen int) (s string, found bool, err error) {
	v, ok := config[name]
	if !ok || v == nil {
		return "", false, nil
	}
	s, ok = v.(string)
	if !ok {
		return "", false, configErr("config.%s: must be a string, got %s", name, jsonType(v))
	}
	if n := utf8.RuneCountInString(s); n > maxLen {
		return "", false, configErr("config.%s: must be at most %d characters, got %d", name, maxLen, n)
	}
	return s, true, nil
}

// requiredString reads config[name] as a non-empty string of at most maxLen
// characters.
func requiredString(config map[string]any, name string, maxLen int) (string, error) {
	s, found, err := stringField(config, name, maxLen)
	if err != nil {
		return "", err
	}
	if !found {
		return "", configErr("config.%s: required", name)
	}
	if s == "" {
		return "", configErr("config.%s: must not be empty", name)
	}
	return s, nil
}

// boolField reads config[name] as a bool, def when absent or null.
func boolField(config map[string]any, name string, def bool) (bool, error) {
	v, ok := config[name]
	if !ok || v == nil {
		return def, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, configErr("config.%s: must be a boolean, got %s", name, jsonType(v))
	}
	return b, nil
}

// jsonType names the JSON type of a decoded value, for messages.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number, float64, float32, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return "number"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	default:
		return fmt.Sprintf("%T", v)
	}
}
