package judge

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func fptr(v float64) *float64 { return &v }
func bptr(v bool) *bool       { return &v }

// parsed is Parse's result in one comparable value.
type parsed struct {
	Score     *float64
	Passed    *bool
	Rationale string
	Kind      Kind
	Msg       string // a substring of the error message
}

func parseResult(text string, f Format) parsed {
	s, p, r, err := Parse(text, f)
	got := parsed{Score: s, Passed: p, Rationale: r}
	var e *Error
	if errors.As(err, &e) {
		got.Kind, got.Msg = e.Kind, e.Msg
	} else if err != nil {
		got.Msg = "not a *Error: " + err.Error()
	}
	return got
}

func TestParse(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", MaxRationale+10)
	tests := []struct {
		name string
		text string
		f    Format
		want parsed // for an error, Msg is a substring of the message
	}{
		// Accepted.
		{name: "score bare", text: `{"score": 0.75, "rationale": "good"}`, f: FormatScore,
			want: parsed{Score: fptr(0.75), Rationale: "good"}},
		{name: "score order free", text: `{"rationale":"good","score":1}`, f: FormatScore,
			want: parsed{Score: fptr(1), Rationale: "good"}},
		{name: "score zero", text: `{"score": 0, "rationale": ""}`, f: FormatScore,
			want: parsed{Score: fptr(0), Rationale: ""}},
		{name: "score negative zero is zero", text: `{"score": -0.0, "rationale": "x"}`, f: FormatScore,
			want: parsed{Score: fptr(0), Rationale: "x"}},
		{name: "score exponent", text: `{"score": 5e-1, "rationale": "x"}`, f: FormatScore,
			want: parsed{Score: fptr(0.5), Rationale: "x"}},
		{name: "boolean true", text: `{"passed": true, "rationale": "ok"}`, f: FormatBoolean,
			want: parsed{Passed: bptr(true), Rationale: "ok"}},
		{name: "boolean false", text: `{"passed": false, "rationale": "no"}`, f: FormatBoolean,
			want: parsed{Passed: bptr(false), Rationale: "no"}},
		{name: "surrounding space", text: " \n\t{\"passed\": true, \"rationale\": \"ok\"}\n ", f: FormatBoolean,
			want: parsed{Passed: bptr(true), Rationale: "ok"}},
		{name: "json fence", text: "```json\n{\"score\": 0.2, \"rationale\": \"meh\"}\n```", f: FormatScore,
			want: parsed{Score: fptr(0.2), Rationale: "meh"}},
		{name: "JSON fence upper case", text: "```JSON\n{\"score\": 0.2, \"rationale\": \"meh\"}\n```", f: FormatScore,
			want: parsed{Score: fptr(0.2), Rationale: "meh"}},
		{name: "bare fence", text: "\n```\n{\"passed\": false, \"rationale\": \"meh\"}\n```\n", f: FormatBoolean,
			want: parsed{Passed: bptr(false), Rationale: "meh"}},
		{name: "rationale trimmed", text: `{"score": 0.5, "rationale": "  spaced  "}`, f: FormatScore,
			want: parsed{Score: fptr(0.5), Rationale: "spaced"}},
		{name: "rationale escapes", text: `{"score": 0.5, "rationale": "a \"quote\" \u00e9 </b>"}`, f: FormatScore,
			want: parsed{Score: fptr(0.5), Rationale: `a "quote" é </b>`}},
		{name: "rationale clipped", text: `{"score": 0.5, "rationale": "` + long + `"}`, f: FormatScore,
			want: parsed{Score: fptr(0.5), Rationale: strings.Repeat("é", MaxRationale-1) + "…"}},
		{name: "rationale exactly at the limit", text: `{"score": 0.5, "rationale": "` + long[:2*MaxRationale] + `"}`, f: FormatScore,
			want: parsed{Score: fptr(0.5), Rationale: long[:2*MaxRationale]}},

		// Refused: the shape around the object.
		{name: "empty", text: "  \n", f: FormatScore, want: parsed{Kind: Malformed, Msg: "empty"}},
		{name: "prose only", text: "The agent did well, 8/10.", f: FormatScore, want: parsed{Kind: Malformed, Msg: "not a JSON object"}},
		{name: "prose before", text: `Here it is: {"score": 0.5, "rationale": "x"}`, f: FormatScore, want: parsed{Kind: Malformed, Msg: "text before the JSON object"}},
		{name: "prose after", text: `{"score": 0.5, "rationale": "x"} Hope this helps!`, f: FormatScore, want: parsed{Kind: Malformed, Msg: "text after the JSON object"}},
		{name: "two objects", text: `{"score": 0.5, "rationale": "x"} {"score": 0.9, "rationale": "y"}`, f: FormatScore, want: parsed{Kind: Malformed, Msg: "more than one JSON object"}},
		{name: "two objects no space", text: `{"score": 0.5, "rationale": "x"}{"score": 0.9, "rationale": "y"}`, f: FormatScore, want: parsed{Kind: Malformed, Msg: "more than one JSON object"}},
		{name: "array", text: `[{"score": 0.5, "rationale": "x"}]`, f: FormatScore, want: parsed{Kind: Malformed, Msg: "text before the JSON object"}},
		{name: "string", text: `"{\"score\": 0.5}"`, f: FormatScore, want: parsed{Kind: Malformed, Msg: "text before"}},
		{name: "prose around fence", text: "Sure:\n```json\n{\"score\": 0.5, \"rationale\": \"x\"}\n```", f: FormatScore, want: parsed{Kind: Malformed, Msg: "text before"}},
		{name: "text after fence", text: "```json\n{\"score\": 0.5, \"rationale\": \"x\"}\n```\nDone.", f: FormatScore, want: parsed{Kind: Malformed, Msg: "not closed at the end"}},
		{name: "fence other language", text: "```python\n{\"score\": 0.5, \"rationale\": \"x\"}\n```", f: FormatScore, want: parsed{Kind: Malformed, Msg: `marked "python"`}},
		{name: "fence on one line", text: "```{\"score\": 0.5, \"rationale\": \"x\"}```", f: FormatScore, want: parsed{Kind: Malformed, Msg: "own lines"}},
		{name: "closing fence not on its own line", text: "```json\n{\"score\": 0.5, \"rationale\": \"x\"}```", f: FormatScore, want: parsed{Kind: Malformed, Msg: "its own line"}},
		{name: "two fences", text: "```json\n{\"score\": 0.5, \"rationale\": \"x\"}\n```\n```json\n{\"score\": 0.9, \"rationale\": \"y\"}\n```", f: FormatScore, want: parsed{Kind: Malformed, Msg: "more than one code fence"}},
		{name: "empty fence", text: "```json\n\n```", f: FormatScore, want: parsed{Kind: Malformed, Msg: "empty"}},
		{name: "unclosed fence", text: "```json\n{\"score\": 0.5, \"rationale\": \"x\"}", f: FormatScore, want: parsed{Kind: Malformed, Msg: "not closed"}},
		{name: "truncated", text: `{"score": 0.5, "rationale": "the agent`, f: FormatScore, want: parsed{Kind: Malformed, Msg: "cut short"}},
		{name: "invalid json", text: `{"score": 0.5, "rationale": 'x'}`, f: FormatScore, want: parsed{Kind: Malformed, Msg: "invalid JSON"}},
		{name: "trailing comma", text: `{"score": 0.5, "rationale": "x",}`, f: FormatScore, want: parsed{Kind: Malformed, Msg: "invalid JSON"}},
		{name: "NaN literal", text: `{"score": NaN, "rationale": "x"}`, f: FormatScore, want: parsed{Kind: Malformed, Msg: "invalid JSON"}},

		// Refused: the fields.
		{name: "missing score", text: `{"rationale": "x"}`, f: FormatScore, want: parsed{Kind: Malformed, Msg: `missing field "score"`}},
		{name: "missing rationale", text: `{"score": 0.5}`, f: FormatScore, want: parsed{Kind: Malformed, Msg: `missing field "rationale"`}},
		{name: "missing passed", text: `{"rationale": "x"}`, f: FormatBoolean, want: parsed{Kind: Malformed, Msg: `missing field "passed"`}},
		{name: "wrong format's field", text: `{"passed": true, "rationale": "x"}`, f: FormatScore, want: parsed{Kind: Malformed, Msg: `unexpected field "passed"`}},
		{name: "extra field", text: `{"score": 0.5, "rationale": "x", "confidence": 0.9}`, f: FormatScore, want: parsed{Kind: Malformed, Msg: `unexpected field "confidence"`}},
		{name: "duplicate field", text: `{"score": 0.1, "score": 0.9, "rationale": "x"}`, f: FormatScore, want: parsed{Kind: Malformed, Msg: `"score" appears twice`}},
		{name: "duplicate through escape", text: `{"score": 0.1, "sc\u006fre": 0.9, "rationale": "x"}`, f: FormatScore, want: parsed{Kind: Malformed, Msg: "appears twice"}},
		{name: "score as string", text: `{"score": "0.5", "rationale": "x"}`, f: FormatScore, want: parsed{Kind: Malformed, Msg: "a string, not a number"}},
		{name: "score null", text: `{"score": null, "rationale": "x"}`, f: FormatScore, want: parsed{Kind: Malformed, Msg: "null, not a number"}},
		{name: "score bool", text: `{"score": true, "rationale": "x"}`, f: FormatScore, want: parsed{Kind: Malformed, Msg: "a boolean, not a number"}},
		{name: "score above 1", text: `{"score": 1.01, "rationale": "x"}`, f: FormatScore, want: parsed{Kind: Malformed, Msg: "outside [0, 1]"}},
		{name: "score below 0", text: `{"score": -0.1, "rationale": "x"}`, f: FormatScore, want: parsed{Kind: Malformed, Msg: "outside [0, 1]"}},
		{name: "score percent", text: `{"score": 80, "rationale": "x"}`, f: FormatScore, want: parsed{Kind: Malformed, Msg: "outside [0, 1]"}},
		{name: "score overflow", text: `{"score": 1e400, "rationale": "x"}`, f: FormatScore, want: parsed{Kind: Malformed, Msg: "not a finite number"}},
		{name: "passed as string", text: `{"passed": "true", "rationale": "x"}`, f: FormatBoolean, want: parsed{Kind: Malformed, Msg: "a string, not a boolean"}},
		{name: "passed as number", text: `{"passed": 1, "rationale": "x"}`, f: FormatBoolean, want: parsed{Kind: Malformed, Msg: "a number, not a boolean"}},
		{name: "rationale not a string", text: `{"score": 0.5, "rationale": ["x"]}`, f: FormatScore, want: parsed{Kind: Malformed, Msg: "an array, not a string"}},
		{name: "rationale null", text: `{"score": 0.5, "rationale": null}`, f: FormatScore, want: parsed{Kind: Malformed, Msg: "null, not a string"}},
		{name: "too long", text: `{"score": 0.5, "rationale": "` + strings.Repeat("x", maxAnswer) + `"}`, f: FormatScore, want: parsed{Kind: Malformed, Msg: "longer than"}},

		// The caller's mistake.
		{name: "unknown format", text: `{"score": 0.5, "rationale": "x"}`, f: "stars", want: parsed{Kind: Misconfigured, Msg: `unknown format "stars"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := parseResult(tt.text, tt.f)
			if tt.want.Kind != 0 {
				if !strings.Contains(got.Msg, tt.want.Msg) {
					t.Errorf("Parse() error message = %q, want it to contain %q", got.Msg, tt.want.Msg)
				}
				got.Msg = tt.want.Msg
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrorIsMalformedError(t *testing.T) {
	t.Parallel()
	_, _, _, err := Parse("nope", FormatScore)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Parse() error is %T, want *Error", err)
	}
	if e.Kind != Malformed || !e.Kind.Retryable() {
		t.Errorf("Kind = %v (retryable %v), want malformed, retryable", e.Kind, e.Kind.Retryable())
	}
	if got, want := err.Error(), "judge: malformed output: the answer is not a JSON object"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// checkParseInvariants fails t if an accepted answer breaks a promise of Parse.
func checkParseInvariants(t *testing.T, text string, f Format) {
	t.Helper()
	score, passed, why, err := Parse(text, f)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) || e.Kind != Malformed || e.Msg == "" {
			t.Fatalf("Parse(%q) error = %#v, want a *Error of Kind Malformed with a message", text, err)
		}
		if score != nil || passed != nil || why != "" {
			t.Fatalf("Parse(%q) returned values with an error", text)
		}
		return
	}
	switch f {
	case FormatScore:
		if score == nil || passed != nil {
			t.Fatalf("Parse(%q, score) = %v, %v: want only a score", text, score, passed)
		}
		if v := *score; math.IsNaN(v) || v < 0 || v > 1 || math.Signbit(v) {
			t.Fatalf("Parse(%q) score = %v, want a number in [0,1]", text, v)
		}
	case FormatBoolean:
		if passed == nil || score != nil {
			t.Fatalf("Parse(%q, boolean) = %v, %v: want only passed", text, score, passed)
		}
	}
	if !utf8.ValidString(why) || utf8.RuneCountInString(why) > MaxRationale || why != strings.TrimSpace(why) {
		t.Fatalf("Parse(%q) rationale %q breaks the rationale rules", text, why)
	}
	// The canonical form of an accepted answer parses to the same verdict.
	canon := map[string]any{"rationale": why}
	if score != nil {
		canon["score"] = *score
	} else {
		canon["passed"] = *passed
	}
	data, err := json.Marshal(canon)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	s2, p2, why2, err := Parse(string(data), f)
	if err != nil {
		t.Fatalf("Parse(canonical %s) = %v", data, err)
	}
	same := why2 == why &&
		(score == nil) == (s2 == nil) && (score == nil || *score == *s2) &&
		(passed == nil) == (p2 == nil) && (passed == nil || *passed == *p2)
	if !same {
		t.Fatalf("canonical form %s parses differently from %q", data, text)
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`{"score": 0.75, "rationale": "good"}`,
		`{"passed": true, "rationale": "ok"}`,
		"```json\n{\"score\": 0.2, \"rationale\": \"meh\"}\n```",
		"```\n{\"passed\": false, \"rationale\": \"x\"}\n```",
		`Here: {"score": 0.5, "rationale": "x"}`,
		`{"score": 0.5, "rationale": "x"} {"score": 1, "rationale": "y"}`,
		`{"score": 1e400, "rationale": "x"}`,
		`{"score": -0, "rationale": "  x  "}`,
		`{"score": 0.1, "sc\u006fre": 0.9, "rationale": "x"}`,
		`{"passed": "true", "rationale": "x"}`,
		`{"rationale": "\ud800"}`,
		"",
		"```",
		"{",
	} {
		f.Add(seed, true)
		f.Add(seed, false)
	}
	f.Fuzz(func(t *testing.T, text string, score bool) {
		format := FormatBoolean
		if score {
			format = FormatScore
		}
		checkParseInvariants(t, text, format)
	})
}

func BenchmarkParse(b *testing.B) {
	cases := []struct {
		name, text string
		f          Format
	}{
		{"score", `{"score": 0.75, "rationale": "The agent answered the question and offered a refund as the policy requires."}`, FormatScore},
		{"boolean_fenced", "```json\n{\"passed\": true, \"rationale\": \"The agent answered the question and offered a refund as the policy requires.\"}\n```", FormatBoolean},
		{"long_rationale", `{"score": 0.5, "rationale": "` + strings.Repeat("word ", 1500) + `"}`, FormatScore},
		{"prose_refused", `Sure! Here is my verdict: {"score": 0.75, "rationale": "fine"}`, FormatScore},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.text)))
			for b.Loop() {
				_, _, _, _ = Parse(c.text, c.f)
			}
		})
	}
}
