package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// ValidationError is one entry of a 422 body, in pydantic v2's shape.
type ValidationError struct {
	Loc   []any          `json:"loc"`
	Msg   string         `json:"msg"`
	Type  string         `json:"type"`
	Input any            `json:"input"`
	Ctx   map[string]any `json:"ctx,omitempty"`
}

// problems collects validation errors of one request.
type problems []ValidationError

func (p *problems) add(loc []any, typ, msg string, input any, ctx map[string]any) {
	*p = append(*p, ValidationError{Loc: loc, Msg: msg, Type: typ, Input: input, Ctx: ctx})
}

func loc(parts ...any) []any { return parts }

// uuid validates a path or query id like pydantic's UUID type.
func (p *problems) uuid(where, name, v string) string {
	return p.uuidAt(loc(where, name), v)
}

// uuidAt validates an id found at l (a body field may be nested:
// ["body", "turns", 3, "id"]).
func (p *problems) uuidAt(l []any, v string) string {
	if _, err := uuid.Parse(v); err != nil || len(v) != 36 {
		msg := "Input should be a valid UUID, " + uuidReason(v)
		p.add(l, "uuid_parsing", msg, v, map[string]any{"error": uuidReason(v)})
		return ""
	}
	return strings.ToLower(v)
}

func uuidReason(v string) string {
	for i, c := range v {
		hex := (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
		if c != '-' && !hex {
			return fmt.Sprintf("invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `%c` at %d", c, i+1)
		}
	}
	return fmt.Sprintf("invalid group length or length: expected 36 characters in hyphenated form, found %d", len(v))
}

// enumMsg renders pydantic's "Input should be 'a', 'b' or 'c'".
func enumMsg(allowed []string) string {
	q := make([]string, len(allowed))
	for i, a := range allowed {
		q[i] = "'" + a + "'"
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

func (p *problems) enum(l []any, v string, allowed []string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	exp := enumMsg(allowed)
	p.add(l, "enum", "Input should be "+exp, v, map[string]any{"expected": exp})
	return false
}

// query reads the query string of r.
type query struct {
	p    *problems
	vals map[string][]string
}

// str is the parameter's last value (FastAPI's choice), "" when absent.
func (q query) str(name string) string {
	v := q.vals[name]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// has reports whether the parameter is present, even empty: FastAPI
// validates "?limit=" as the empty string, a 422, and so does the document.
func (q query) has(name string) bool { return len(q.vals[name]) > 0 }

func (q query) uuid(name string) string {
	if q.has(name) {
		return q.p.uuid("query", name, q.str(name))
	}
	return ""
}

func (q query) enum(name string, allowed ...string) string {
	v := q.str(name)
	if !q.has(name) || !q.p.enum(loc("query", name), v, allowed) {
		return ""
	}
	return v
}

func (q query) number(name string, lo, hi float64) *float64 {
	s := q.str(name)
	if !q.has(name) {
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil || math.IsNaN(f) || math.IsInf(f, 0):
		q.p.add(loc("query", name), "float_parsing", "Input should be a valid number, unable to parse string as a number", s, nil)
		return nil
	case f < lo:
		q.p.add(loc("query", name), "greater_than_equal", fmt.Sprintf("Input should be greater than or equal to %g", lo), s, map[string]any{"ge": lo})
		return nil
	case f > hi:
		q.p.add(loc("query", name), "less_than_equal", fmt.Sprintf("Input should be less than or equal to %g", hi), s, map[string]any{"le": hi})
		return nil
	}
	return &f
}

// limit reads the list limit (default 50, 1..200).
func (q query) limit() int {
	s := q.str("limit")
	if !q.has("limit") {
		return 50
	}
	n, err := strconv.Atoi(s)
	switch {
	case err != nil:
		q.p.add(loc("query", "limit"), "int_parsing", "Input should be a valid integer, unable to parse string as an integer", s, nil)
	case n < 1:
		q.p.add(loc("query", "limit"), "greater_than_equal", "Input should be greater than or equal to 1", s, map[string]any{"ge": 1})
	case n > 200:
		q.p.add(loc("query", "limit"), "less_than_equal", "Input should be less than or equal to 200", s, map[string]any{"le": 200})
	default:
		return n
	}
	return 50
}

// maxBody is the largest request body accepted (413 beyond).
const maxBody = 1 << 20

var errTooLarge = errors.New("body too large")

// readBody reads a JSON object body. It records json_invalid (with the byte
// offset, as FastAPI does), a missing body, or a non-object, and returns
// errTooLarge past maxBody.
func readBody(r *http.Request, p *problems, required bool) (*fields, error) {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errTooLarge
		}
		return nil, err
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		if required {
			p.add(loc("body"), "missing", "Field required", nil, nil)
		}
		return nil, nil
	}
	var raw any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		// FastAPI reports the index of the offending character (Python's
		// JSONDecodeError.pos); Go's Offset counts the bytes read through
		// it. Truncated input points past the end, as Python does.
		offset := int64(len(b))
		var se *json.SyntaxError
		if errors.As(err, &se) {
			offset = max(se.Offset-1, 0)
		}
		p.add(loc("body", offset), "json_invalid", "JSON decode error", map[string]any{}, map[string]any{"error": jsonReason(err)})
		return nil, nil
	}
	// Anything but whitespace after the value is extra data (dec.More
	// would let a stray "]" or "}" through).
	if rest := strings.TrimLeft(string(b[dec.InputOffset():]), " \t\r\n"); rest != "" {
		p.add(loc("body", dec.InputOffset()), "json_invalid", "JSON decode error", map[string]any{}, map[string]any{"error": "Extra data"})
		return nil, nil
	}
	if !utf8.Valid(b) {
		p.add(loc("body", 0), "json_invalid", "JSON decode error", map[string]any{}, map[string]any{"error": "invalid UTF-8"})
		return nil, nil
	}
	// A number beyond float64 (1e400) would be stored and echoed as ±Inf,
	// which JSON cannot carry: the write or the answer would fail.
	if at, n := nonFinite(raw, loc("body")); at != nil {
		p.add(at, "finite_number", "Input should be a finite number", n, nil)
		return nil, nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		p.add(loc("body"), "model_attributes_type", "Input should be a valid dictionary or object to extract fields from", raw, nil)
		return nil, nil
	}
	return &fields{m: m, at: []any{"body"}}, nil
}

// nonFinite returns the location and text of the first number of v (in
// key order) that does not fit a float64, or nil.
func nonFinite(v any, at []any) ([]any, string) {
	switch x := v.(type) {
	case json.Number:
		if _, err := x.Float64(); err != nil {
			return at, x.String()
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if l, n := nonFinite(x[k], append(at[:len(at):len(at)], k)); l != nil {
				return l, n
			}
		}
	case []any:
		for i, e := range x {
			if l, n := nonFinite(e, append(at[:len(at):len(at)], i)); l != nil {
				return l, n
			}
		}
	}
	return nil, ""
}

func jsonReason(err error) string {
	s := err.Error()
	if errors.Is(err, io.ErrUnexpectedEOF) || s == "EOF" {
		return "Expecting value"
	}
	return s
}

// fields is a decoded JSON object; its getters validate one field each
// like pydantic, recording problems under loc ["body", name].
type fields struct {
	m  map[string]any
	at []any // location of the object: ["body"], ["body", "turns", 3]
}

func (f fields) has(name string) bool { _, ok := f.m[name]; return ok }

// l is the location of a field.
func (f fields) l(name string) []any {
	return append(append([]any{}, f.at...), name)
}

func (f fields) str(p *problems, name string, required bool, minLen, maxLen int) (string, bool) {
	v, ok := f.m[name]
	if !ok {
		if required {
			p.add(f.l(name), "missing", "Field required", nil, nil)
		}
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		p.add(f.l(name), "string_type", "Input should be a valid string", v, nil)
		return "", false
	}
	n := utf8.RuneCountInString(s)
	if n < minLen {
		p.add(f.l(name), "string_too_short", fmt.Sprintf("String should have at least %d character%s", minLen, plural(minLen)), s, map[string]any{"min_length": minLen})
		return "", false
	}
	if maxLen > 0 && n > maxLen {
		p.add(f.l(name), "string_too_long", fmt.Sprintf("String should have at most %d character%s", maxLen, plural(maxLen)), truncate(s), map[string]any{"max_length": maxLen})
		return "", false
	}
	return s, true
}

// nullableStr reads a string|null field: (nil, true) for null or absent.
func (f fields) nullableStr(p *problems, name string, maxLen int) (*string, bool) {
	if v, ok := f.m[name]; !ok || v == nil {
		return nil, true
	}
	s, ok := f.str(p, name, false, 0, maxLen)
	if !ok {
		return nil, false
	}
	return &s, true
}

func (f fields) uuid(p *problems, name string, required bool) string {
	v, ok := f.m[name]
	if !ok || v == nil {
		if required {
			p.add(f.l(name), "missing", "Field required", nil, nil)
		}
		return ""
	}
	s, ok := v.(string)
	if !ok {
		p.add(f.l(name), "uuid_type", "UUID input should be a string, bytes or UUID object", v, nil)
		return ""
	}
	return p.uuidAt(f.l(name), s)
}

func (f fields) enum(p *problems, name string, required bool, def string, allowed ...string) string {
	v, ok := f.m[name]
	if !ok {
		if required {
			p.add(f.l(name), "missing", "Field required", nil, nil)
		}
		return def
	}
	s, isStr := v.(string)
	if !isStr {
		p.enum(f.l(name), fmt.Sprint(v), allowed)
		return def
	}
	if !p.enum(f.l(name), s, allowed) {
		return def
	}
	return s
}

func (f fields) number(p *problems, name string, def, lo, hi float64) float64 {
	v, ok := f.m[name]
	if !ok {
		return def
	}
	var x float64
	var err error
	switch n := v.(type) {
	case json.Number: // a field of the body as decoded
		x, err = n.Float64()
	case float64: // a field of an object already converted by plain (config)
		x = n
	case int64:
		x = float64(n)
	default:
		p.add(f.l(name), "float_type", "Input should be a valid number", v, nil)
		return def
	}
	switch {
	case err != nil:
		p.add(f.l(name), "float_parsing", "Input should be a valid number", v, nil)
	case x < lo:
		p.add(f.l(name), "greater_than_equal", fmt.Sprintf("Input should be greater than or equal to %g", lo), v, map[string]any{"ge": lo})
	case x > hi:
		p.add(f.l(name), "less_than_equal", fmt.Sprintf("Input should be less than or equal to %g", hi), v, map[string]any{"le": hi})
	default:
		return x
	}
	return def
}

// boolean reads a bool field; (nil) when absent or null and nullable.
func (f fields) boolean(p *problems, name string) *bool {
	v, ok := f.m[name]
	if !ok || v == nil {
		return nil
	}
	b, isBool := v.(bool)
	if !isBool {
		p.add(f.l(name), "bool_type", "Input should be a valid boolean", v, nil)
		return nil
	}
	return &b
}

func (f fields) object(p *problems, name string) (map[string]any, bool) {
	v, ok := f.m[name]
	if !ok || v == nil {
		return nil, false
	}
	m, isMap := v.(map[string]any)
	if !isMap {
		p.add(f.l(name), "dict_type", "Input should be a valid dictionary", v, nil)
		return nil, false
	}
	return plain(m).(map[string]any), true
}

// timeField reads an RFC 3339 date-time or null.
func (f fields) time(p *problems, name string) *time.Time {
	v, ok := f.m[name]
	if !ok || v == nil {
		return nil
	}
	s, isStr := v.(string)
	t, err := time.Parse(time.RFC3339Nano, s)
	if !isStr || err != nil {
		p.add(f.l(name), "datetime_from_date_parsing", "Input should be a valid datetime or date, invalid character in year", v, nil)
		return nil
	}
	t = t.UTC()
	return &t
}

// plain converts json.Number values back to float64 or int64 so that
// stored configs and metadata are ordinary JSON values.
func plain(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = plain(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = plain(e)
		}
		return x
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	}
	return v
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// truncate keeps error bodies small when the input is huge.
func truncate(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}
