package scorer

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"regexp/syntax"
)

// Values of config.target.
const (
	targetAssistant = "assistant"
	targetUser      = "user"
	targetAny       = "any"
)

// regexCacheSize bounds the compiled-pattern cache.
const regexCacheSize = 256

var patterns = newLRU[pattern](regexCacheSize)

// pattern is a compiled regex and the size of its program.
type pattern struct {
	re    *regexp.Regexp
	insts int
}

// regexRule is a validated regex config.
type regexRule struct {
	re        *regexp.Regexp
	target    string
	mustMatch bool
}

// parseRegex validates a regex config and compiles its pattern, from the
// cache when the same pattern compiled before.
func parseRegex(config map[string]any) (regexRule, error) {
	source, err := requiredString(config, "pattern", MaxPatternLen)
	if err != nil {
		return regexRule{}, err
	}
	target, found, err := stringField(config, "target", math.MaxInt)
	switch {
	case err != nil:
		return regexRule{}, err
	case !found:
		target = targetAny
	case target != targetAssistant && target != targetUser && target != targetAny:
		return regexRule{}, configErr("config.target: must be one of assistant, user, any, got %.40q", target)
	}
	mustMatch, err := boolField(config, "must_match", true)
	if err != nil {
		return regexRule{}, err
	}
	p, err := compileRegex(source)
	if err != nil {
		return regexRule{}, configErr("config.pattern: %v", err)
	}
	return regexRule{re: p.re, target: target, mustMatch: mustMatch}, nil
}

// run matches the pattern against the targeted turns of in.
func (r regexRule) run(ctx context.Context, in Input) (Result, error) {
	var evidence []string
	first, matched, searched := -1, 0, 0
	for i, t := range in.Turns {
		if r.target != targetAny && t.Role != r.target {
			continue
		}
		if err := ctx.Err(); err != nil {
			return Result{}, fmt.Errorf("scorer: regex interrupted: %w", err)
		}
		searched++
		if !r.re.MatchString(t.Content) {
			continue
		}
		matched++
		if first < 0 {
			first = i
		}
		if t.ID != "" {
			evidence = append(evidence, t.ID)
		}
	}
	passed := (matched > 0) == r.mustMatch
	res := Result{Boolean: true, Evidence: evidence}
	if passed {
		res.Value = 1
	}
	turns := "turn" // what was searched: "turn", "assistant turn", "user turn"
	if r.target != targetAny {
		turns = r.target + " turn"
	}
	switch {
	case matched == 0 && r.mustMatch:
		res.Rationale = fmt.Sprintf("pattern matched no %s (%d searched)", turns, searched)
	case matched == 0:
		res.Rationale = fmt.Sprintf("pattern matched no %s (%d searched), as required", turns, searched)
	default:
		where := fmt.Sprintf("turn %d (%s)", first+1, in.Turns[first].Role)
		if matched > 1 {
			where += fmt.Sprintf(" and %d more %s", matched-1, plural(matched-1, turns))
		}
		if r.mustMatch {
			res.Rationale = "pattern matched in " + where
		} else {
			res.Rationale = "pattern must not match but matched in " + where
		}
	}
	return res, nil
}

// compileRegex compiles an RE2 pattern whose program has at most
// MaxPatternInsts instructions, from the cache when it compiled before. Its
// error does not name the field.
//
// Matching takes time proportional to the text's length times the
// instructions alive at once, and in a counted repetition they all can be:
// [^z]{499}[^z]{497}z takes half a minute over a MiB of text, .{0,1000}
// repeated a hundred times (900 characters) would take hours. Such patterns
// are refused before they are compiled, from an estimate of their size,
// because compiling one takes tens of milliseconds and a hundred MB.
func compileRegex(source string) (pattern, error) {
	if p, ok := patterns.get(source); ok {
		return p, nil
	}
	tree, err := syntax.Parse(source, syntax.Perl) // as regexp.Compile parses
	if err != nil {
		return pattern{}, err
	}
	if n := estimateInsts(tree); n > 4*MaxPatternInsts {
		return pattern{}, fmt.Errorf("too complex: compiles to about %d instructions, at most %d", n, MaxPatternInsts)
	}
	prog, err := syntax.Compile(tree.Simplify())
	if err != nil {
		return pattern{}, err
	}
	if n := len(prog.Inst); n > MaxPatternInsts {
		return pattern{}, fmt.Errorf("too complex: compiles to %d instructions, at most %d", n, MaxPatternInsts)
	}
	re, err := regexp.Compile(source)
	if err != nil {
		return pattern{}, err
	}
	p := pattern{re: re, insts: len(prog.Inst)}
	patterns.add(source, p)
	return p, nil
}

// estimateInsts returns about the number of instructions re compiles to,
// without compiling it; it follows regexp/syntax's own size check.
func estimateInsts(re *syntax.Regexp) int64 {
	const ceiling = 1 << 40 // saturate rather than overflow
	var n int64
	switch re.Op {
	case syntax.OpLiteral:
		n = int64(len(re.Rune))
	case syntax.OpCapture, syntax.OpStar:
		n = 2 + estimateInsts(re.Sub[0])
	case syntax.OpPlus, syntax.OpQuest:
		n = 1 + estimateInsts(re.Sub[0])
	case syntax.OpConcat, syntax.OpAlternate:
		for _, sub := range re.Sub {
			n += estimateInsts(sub)
		}
		if re.Op == syntax.OpAlternate {
			n += int64(len(re.Sub)) - 1
		}
	case syntax.OpRepeat:
		sub := estimateInsts(re.Sub[0])
		switch {
		case re.Max == -1 && re.Min == 0:
			n = 2 + sub
		case re.Max == -1:
			n = 1 + int64(re.Min)*sub
		default: // x{2,5} is xx(x(x(x)?)?)?
			n = int64(re.Max)*sub + int64(re.Max-re.Min)
		}
	}
	return min(max(n, 1), ceiling)
}

// plural returns noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}
