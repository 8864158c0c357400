package judge

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxRationale is the longest rationale Parse returns, in runes; a longer one
// is cut and ends with "…".
const MaxRationale = 4000

// maxAnswer bounds the judge output Parse reads, in bytes.
const maxAnswer = 1 << 20

// Parse reads a judge's answer strictly (the rule is in the package
// documentation). On success exactly one of score and passed is set, as f
// asks. Every problem with text is a *Error of Kind Malformed; an unknown f is a
// *Error of Kind Misconfigured.
func Parse(text string, f Format) (score *float64, passed *bool, rationale string, err error) {
	if !f.Valid() {
		return nil, nil, "", &Error{Kind: Misconfigured, Msg: fmt.Sprintf("unknown format %q", f)}
	}
	if len(text) > maxAnswer {
		return nil, nil, "", parseErr("the answer is longer than %d bytes", maxAnswer)
	}
	body, perr := unwrapAnswer(text)
	if perr != nil {
		return nil, nil, "", perr
	}
	fields, perr := decodeObject(body)
	if perr != nil {
		return nil, nil, "", perr
	}

	want := "score"
	if f == FormatBoolean {
		want = "passed"
	}
	var value, why json.RawMessage
	for _, fl := range fields {
		switch fl.key {
		case want:
			value = fl.value
		case "rationale":
			why = fl.value
		default:
			return nil, nil, "", parseErr("unexpected field %s (a %s answer has only %q and \"rationale\")", quoteShort(fl.key), f, want)
		}
	}
	if value == nil {
		return nil, nil, "", parseErr("missing field %q", want)
	}
	if why == nil {
		return nil, nil, "", parseErr("missing field \"rationale\"")
	}

	if f == FormatScore {
		v, perr := parseScore(value)
		if perr != nil {
			return nil, nil, "", perr
		}
		score = &v
	} else {
		switch string(value) {
		case "true":
			b := true
			passed = &b
		case "false":
			b := false
			passed = &b
		default:
			return nil, nil, "", parseErr("\"passed\" is %s, not a boolean", describe(value))
		}
	}

	if why[0] != '"' {
		return nil, nil, "", parseErr("\"rationale\" is %s, not a string", describe(why))
	}
	if err := json.Unmarshal(why, &rationale); err != nil {
		return nil, nil, "", parseErr("\"rationale\" is not a valid string")
	}
	return score, passed, clip(strings.TrimSpace(rationale)), nil
}

func parseErr(format string, a ...any) *Error {
	return &Error{Kind: Malformed, Msg: fmt.Sprintf(format, a...)}
}

// unwrapAnswer trims text and removes one enclosing ``` or ```json fence.
// Anything else around the object is left in place for decodeObject to reject.
func unwrapAnswer(text string) (string, *Error) {
	s := strings.TrimSpace(text)
	if s == "" {
		return "", parseErr("the answer is empty")
	}
	if !strings.HasPrefix(s, "```") {
		return s, nil
	}
	nl := strings.IndexByte(s, '\n')
	if nl < 0 {
		return "", parseErr("a code fence must put the JSON object on its own lines")
	}
	if info := strings.TrimSpace(s[3:nl]); info != "" && !strings.EqualFold(info, "json") {
		return "", parseErr("the code fence is marked %s, not json", quoteShort(info))
	}
	rest := s[nl+1:]
	if !strings.HasSuffix(rest, "```") {
		return "", parseErr("the code fence is not closed at the end of the answer")
	}
	inner := strings.TrimRight(rest[:len(rest)-3], " \t")
	if inner != "" && !strings.HasSuffix(inner, "\n") {
		return "", parseErr("the closing code fence must be on its own line")
	}
	inner = strings.TrimSpace(inner)
	if strings.Contains(inner, "```") {
		return "", parseErr("the answer has more than one code fence")
	}
	if inner == "" {
		return "", parseErr("the code fence is empty")
	}
	return inner, nil
}

type field struct {
	key   string
	value json.RawMessage
}

// decodeObject requires s to be exactly one JSON object with distinct keys.
func decodeObject(s string) ([]field, *Error) {
	if s[0] != '{' {
		if strings.Contains(s, "{") {
			return nil, parseErr("text before the JSON object (the answer must be the object alone)")
		}
		return nil, parseErr("the answer is not a JSON object")
	}
	dec := json.NewDecoder(strings.NewReader(s))
	if _, err := dec.Token(); err != nil { // the '{'
		return nil, syntaxErr(err)
	}
	var fields []field
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, syntaxErr(err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, parseErr("invalid JSON object")
		}
		for _, f := range fields {
			if f.key == key {
				return nil, parseErr("field %s appears twice", quoteShort(key))
			}
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, syntaxErr(err)
		}
		fields = append(fields, field{key: key, value: v})
	}
	if _, err := dec.Token(); err != nil { // the '}'
		return nil, syntaxErr(err)
	}
	rest := strings.TrimSpace(s[dec.InputOffset():])
	switch {
	case rest == "":
		return fields, nil
	case rest[0] == '{':
		return nil, parseErr("more than one JSON object")
	default:
		return nil, parseErr("text after the JSON object (the answer must be the object alone)")
	}
}

func syntaxErr(err error) *Error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return parseErr("the JSON object is cut short")
	}
	return parseErr("invalid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// parseScore accepts a JSON number in [0,1].
func parseScore(raw json.RawMessage) (float64, *Error) {
	if c := raw[0]; c != '-' && (c < '0' || c > '9') {
		return 0, parseErr("\"score\" is %s, not a number", describe(raw))
	}
	v, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, parseErr("\"score\" %s is not a finite number", quoteShort(string(raw)))
	}
	if v < 0 || v > 1 {
		return 0, parseErr("\"score\" %s is outside [0, 1]", quoteShort(string(raw)))
	}
	if v == 0 {
		v = 0 // no negative zero
	}
	return v, nil
}

// describe names the JSON type of raw for an error message.
func describe(raw json.RawMessage) string {
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

// quoteShort quotes s, shortened so that an error message stays readable.
func quoteShort(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max]) + "…"
	}
	return strconv.Quote(s)
}

// clip bounds a rationale to MaxRationale runes.
func clip(s string) string {
	if len(s) <= MaxRationale { // bytes >= runes: nothing to count
		return s
	}
	n := 0
	for i := range s {
		if n == MaxRationale-1 {
			if utf8.RuneCountInString(s[i:]) <= 1 {
				return s
			}
			return s[:i] + "…"
		}
		n++
	}
	return s
}
