package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/plume-evals/plume"
	"github.com/plume-evals/plume/internal/api"
	"github.com/plume-evals/plume/internal/eval"
	"github.com/plume-evals/plume/internal/judge"
	"github.com/plume-evals/plume/internal/scorer"
	"github.com/plume-evals/plume/internal/worker"
)

// The tests in this file hold openapi.json and the handlers to each other:
// the same routes, and every request and response of a session that drives
// every route checked against the document with kin-openapi.

// oas is openapi.json loaded by kin-openapi, ready to validate exchanges.
type oas struct {
	doc    *openapi3.T
	router routers.Router
	opts   *openapi3filter.Options
}

// uuidFormat accepts what the API accepts (pydantic's UUID): any 36-character
// hyphenated UUID, whatever its version (our ids include UUID v5 and v7).
// kin-openapi's FormatOfStringForUUIDOfRFC4122 would reject v7.
var uuidFormat = openapi3.NewCallbackValidator(func(s string) error {
	if _, err := uuid.Parse(s); err != nil || len(s) != 36 {
		return fmt.Errorf("%q is not a hyphenated UUID", s)
	}
	return nil
})

var loadOAS = sync.OnceValues(func() (*oas, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(plume.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("load openapi.json: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi.json is not a valid OpenAPI document: %w", err)
	}
	// kin-openapi matches servers: requests from httptest would find no
	// operation under the document's http://127.0.0.1:8000.
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("router: %w", err)
	}
	return &oas{doc: doc, router: router, opts: &openapi3filter.Options{
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus: true,
		// The handler must see the body exactly as sent: no defaults filled.
		SkipSettingDefaults:     true,
		MultiError:              true,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.WithStringFormatValidator("uuid", uuidFormat)},
	}}, nil
})

func mustOAS(t *testing.T) *oas {
	t.Helper()
	o, err := loadOAS()
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// documented lists "METHOD /path" of every operation in openapi.json.
func (o *oas) documented() []string {
	var out []string
	for path, item := range o.doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+path)
		}
	}
	sort.Strings(out)
	return out
}

// TestRoutesMatchDocument fails when the router and openapi.json disagree
// about which routes exist, and when a pattern of api.Routes does not route.
func TestRoutesMatchDocument(t *testing.T) {
	t.Parallel()
	o := mustOAS(t)
	routes := slices.Clone(api.Routes)
	sort.Strings(routes)
	for i := 1; i < len(routes); i++ {
		if routes[i] == routes[i-1] {
			t.Errorf("api.Routes lists %q twice", routes[i])
		}
	}
	if diff := cmp.Diff(o.documented(), routes); diff != "" {
		t.Errorf("openapi.json operations (-) and api.Routes (+) differ:\n%s", diff)
	}

	// Every pattern routes on the real handler: without a key a protected
	// route answers 401 (the mux would answer 404 or 405 before auth), a
	// public one 200. The other methods on each path are 405 with an Allow
	// header that names exactly the routed methods, so the mux has no route
	// that api.Routes does not list.
	h := (&api.API{OpenAPI: plume.OpenAPI, Now: time.Now, NewID: uuid.NewString, Log: quietLog()}).Handler()
	methods := map[string][]string{} // path -> routed methods
	for _, r := range api.Routes {
		method, pattern, _ := strings.Cut(r, " ")
		methods[pattern] = append(methods[pattern], method)
	}
	for _, r := range api.Routes {
		method, pattern, _ := strings.Cut(r, " ")
		t.Run(r, func(t *testing.T) {
			path := fillPath(pattern, "00000000-0000-4000-8000-000000000001")
			rec := serveRec(h, httptest.NewRequest(method, path, nil))
			want := http.StatusUnauthorized
			if op := o.doc.Paths.Find(pattern).GetOperation(method); op != nil && op.Security != nil && len(*op.Security) == 0 {
				want = http.StatusOK
			}
			if rec.Code != want {
				t.Errorf("%s %s = %d %s, want %d (does the pattern route?)", method, path, rec.Code, rec.Body, want)
			}
		})
	}
	for pattern, routed := range methods {
		path := fillPath(pattern, "00000000-0000-4000-8000-000000000001")
		allow := slices.Clone(routed)
		if slices.Contains(allow, http.MethodGet) {
			allow = append(allow, http.MethodHead)
		}
		sort.Strings(allow)
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			if slices.Contains(routed, m) {
				continue
			}
			rec := serveRec(h, httptest.NewRequest(m, path, nil))
			got := strings.Split(rec.Header().Get("Allow"), ", ")
			sort.Strings(got)
			if rec.Code != http.StatusMethodNotAllowed || !slices.Equal(got, allow) {
				t.Errorf("%s %s = %d Allow %q, want 405 Allow %q", m, path, rec.Code, got, allow)
			}
		}
	}
}

// fillPath replaces every {param} of a pattern with v.
func fillPath(pattern, v string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(pattern, '{')
		if i < 0 {
			return b.String() + pattern
		}
		j := strings.IndexByte(pattern[i:], '}')
		b.WriteString(pattern[:i] + v)
		pattern = pattern[i+j+1:]
	}
}

func serveRec(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// docVerdict is what the document must say about a request.
type docVerdict int

const (
	docValid   docVerdict = iota // the request conforms to openapi.json
	docInvalid                   // openapi.json rejects it (so must the API: 422)
	docEither                    // a rule the schema cannot express, or a size limit
)

// call is one request of the conformance session.
type call struct {
	name         string
	method, path string
	body         any    // nil, string (raw), []byte (raw) or a value sent as JSON
	key          string // "" uses the fixture's key; noKey sends none
	want         int
	doc          docVerdict
}

const noKey = "-"

// conformance drives the API and checks every exchange against openapi.json.
type conformance struct {
	t        *testing.T
	f        *fixture
	o        *oas
	count    int
	covered  map[string]map[int]bool // "METHOD /pattern" -> statuses seen
	lastBody []byte
}

// do sends c to the API, checks status, request and response against the
// document, and returns the decoded body (nil for an empty one).
func (cf *conformance) do(c call) map[string]any {
	t := cf.t
	t.Helper()
	var raw []byte
	switch b := c.body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		raw, _ = json.Marshal(b)
	}
	key := cf.f.key
	switch c.key {
	case "":
	case noKey:
		key = ""
	default:
		key = c.key
	}
	newReq := func(url string) *http.Request {
		req := httptest.NewRequest(c.method, url, bytes.NewReader(raw))
		if raw != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if key != "" {
			req.Header.Set("x-api-key", key)
		}
		return req
	}
	label := fmt.Sprintf("%s: %s %s", c.name, c.method, c.path)

	// The document must know the operation, and judge the request as the
	// case expects.
	kreq := newReq("http://plume.test" + c.path)
	route, params, err := cf.o.router.FindRoute(kreq)
	if err != nil {
		t.Errorf("%s: openapi.json has no operation for it: %v", label, err)
		return nil
	}
	in := &openapi3filter.RequestValidationInput{Request: kreq, PathParams: params, Route: route, Options: cf.o.opts}
	reqErr := openapi3filter.ValidateRequest(context.Background(), in)
	switch {
	case c.doc == docValid && reqErr != nil:
		t.Errorf("%s: openapi.json rejects a request the API must accept: %v", label, reqErr)
	case c.doc == docInvalid && reqErr == nil:
		t.Errorf("%s: openapi.json accepts a request the API rejects with %d", label, c.want)
	}

	rec := serveRec(cf.f.h, newReq(c.path))
	cf.count++
	cf.lastBody = rec.Body.Bytes()
	if rec.Code != c.want {
		t.Errorf("%s = %d %s, want %d", label, rec.Code, rec.Body, c.want)
	}
	op := route.Method + " " + route.Path
	if cf.covered[op] == nil {
		cf.covered[op] = map[int]bool{}
	}
	cf.covered[op][rec.Code] = true

	// kin-openapi lets an undocumented status pass unless told otherwise:
	// check it here as well, with a message that says what is missing.
	if route.Operation.Responses.Status(rec.Code) == nil {
		t.Errorf("%s: status %d is not documented for %s (documented: %v)", label, rec.Code, op, slices.Sorted(maps.Keys(route.Operation.Responses.Map())))
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.Code, Header: rec.Header(), Options: cf.o.opts}
	out.SetBodyBytes(rec.Body.Bytes())
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("%s: response %d does not match openapi.json: %v\nbody: %.600s", label, rec.Code, err, rec.Body)
	}
	if rec.Code == http.StatusNoContent {
		if rec.Body.Len() != 0 {
			t.Errorf("%s: 204 with a body: %s", label, rec.Body)
		}
		return nil
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: Content-Type %q, want application/json", label, ct)
	}
	var v map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Errorf("%s: body is not a JSON object: %v: %.300s", label, err, rec.Body)
	}
	return v
}

// Statuses that every operation documenting them must show at least once in
// TestOpenAPIConformance. 500 and 503 are covered by other tests.
var mustCover = []int{200, 201, 202, 204, 400, 401, 404, 409, 413, 422}

// neverProduced are documented statuses that Plume does not return, each
// with the reason it stays in the document.
var neverProduced = map[string]string{
	"POST /v1/v2/conversations/{conversation_id}/reevaluate 400": "Feather documents 400 on reevaluate; kept for compatibility",
	"POST /v1/sessions/{session_id}/reevaluate 400":              "Feather documents 400 on reevaluate; kept for compatibility",
}

func (cf *conformance) checkCoverage() {
	t := cf.t
	t.Helper()
	for _, op := range cf.o.documented() {
		method, path, _ := strings.Cut(op, " ")
		operation := cf.o.doc.Paths.Find(path).GetOperation(method)
		for _, code := range mustCover {
			key := op + " " + strconv.Itoa(code)
			_, skip := neverProduced[key]
			documented := operation.Responses.Status(code) != nil
			switch {
			case documented && !skip && !cf.covered[op][code]:
				t.Errorf("%s: documented status %d never exercised", op, code)
			case skip && cf.covered[op][code]:
				t.Errorf("%s: status %d was produced although listed in neverProduced", op, code)
			case skip && !documented:
				t.Errorf("%s: neverProduced lists status %d, which is not documented", op, code)
			}
		}
	}
}

// runTaskNoJudge runs one task to its end with a worker that has no judge
// provider configured: model_judge runs end errored ("misconfigured").
func (f *fixture) runTaskNoJudge(taskID, conv string) {
	f.t.Helper()
	w := worker.New(f.store, judge.Set{}, judge.DefaultPrices(), quietLog())
	w.Now = func() time.Time { return f.now }
	w.Sleep = func(context.Context, time.Duration) error { return nil }
	ref := eval.Task{ID: taskID, OrgID: f.org, SessionID: conv}
	if err := w.Run(context.Background(), ref); err != nil {
		f.t.Fatalf("worker run of task %s: %v", taskID, err)
	}
}

// jsonStr is v if it is a JSON string, else "".
func jsonStr(v any) string { s, _ := v.(string); return s }

// bigBody is a JSON object body over the 1 MiB limit.
func bigBody(field string) string {
	return `{"` + field + `": "` + strings.Repeat("x", 1<<20+10) + `"}`
}

// TestOpenAPIConformance drives every route against the real API on moto
// with valid and invalid input, and validates every request and response
// against openapi.json.
func TestOpenAPIConformance(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.api.Check = scorer.Check // as app.API wires it: bad patterns are 400
	cf := &conformance{t: t, f: f, o: mustOAS(t), covered: map[string]map[int]bool{}}
	otherKey := "key-other-" + uuid.NewString()
	f.addKey(uuid.NewString(), otherKey)

	// Ids of several UUID versions: v7 for the agent, v5 for the
	// conversations, v4 elsewhere.
	agent := uuid.Must(uuid.NewV7()).String()
	scenario := uuid.NewString()
	conv := uuid.NewSHA1(uuid.NameSpaceURL, []byte("plume-conformance-"+uuid.NewString())).String()
	missing := "00000000-0000-4000-8000-00000000dead"

	do := cf.do
	// Public routes.
	do(call{name: "health", method: "GET", path: "/healthz", key: noKey, want: 200})
	do(call{name: "document", method: "GET", path: "/openapi.json", key: noKey, want: 200})

	// Evaluators of each kind.
	regex := jsonStr(do(call{name: "create regex", method: "POST", path: "/v1/evaluators", want: 201, body: map[string]any{
		"name": "Mentions refunds", "kind": "regex", "format": "boolean", "severity": "high",
		"config": map[string]any{"pattern": "(?i)refund", "target": "assistant", "must_match": true},
	}})["id"])
	expr := jsonStr(do(call{name: "create expression", method: "POST", path: "/v1/evaluators", want: 201, body: map[string]any{
		"name": "Long enough", "kind": "expression", "format": "score", "threshold": 0.5, "description": nil,
		"config": map[string]any{"expression": "size(conversation.turns) >= 2 ? 1.0 : 0.0"},
	}})["id"])
	judgeEv := jsonStr(do(call{name: "create model_judge", method: "POST", path: "/v1/evaluators", want: 201, body: map[string]any{
		"name": "Polite", "description": "Was the agent polite?", "prompt": "Rate politeness from 0 to 1.",
		"config": map[string]any{"provider": "openai", "model": "gpt-4o-mini", "temperature": 0, "max_tokens": 256},
	}})["id"])
	archived := jsonStr(do(call{name: "create to archive", method: "POST", path: "/v1/evaluators", want: 201, body: map[string]any{
		"name": "Old", "kind": "regex", "config": map[string]any{"pattern": "x"},
	}})["id"])
	do(call{name: "create with null config", method: "POST", path: "/v1/evaluators", want: 201, body: map[string]any{
		"name": "Null config", "prompt": "p", "config": nil,
	}})
	doomed := jsonStr(do(call{name: "create to delete", method: "POST", path: "/v1/evaluators", want: 201, body: map[string]any{
		"name": "Doomed", "kind": "expression", "format": "boolean", "config": map[string]any{"expression": "true"},
	}})["id"])
	for _, c := range []call{
		{name: "create without key", body: map[string]any{"name": "x"}, key: noKey, want: 401},
		{name: "create with unknown key", body: map[string]any{"name": "x"}, key: "nope", want: 401},
		{name: "create bad pattern", body: map[string]any{"name": "x", "kind": "regex", "config": map[string]any{"pattern": "("}}, want: 400},
		{name: "create bad expression", body: map[string]any{"name": "x", "kind": "expression", "config": map[string]any{"expression": "1 +"}}, want: 400},
		{name: "create without name", body: map[string]any{"kind": "regex"}, want: 422, doc: docInvalid},
		{name: "create empty name", body: map[string]any{"name": ""}, want: 422, doc: docInvalid},
		{name: "create bad kind", body: map[string]any{"name": "x", "kind": "llm"}, want: 422, doc: docInvalid},
		{name: "create threshold above 1", body: map[string]any{"name": "x", "threshold": 2}, want: 422, doc: docInvalid},
		{name: "create config not an object", body: map[string]any{"name": "x", "config": []any{1}}, want: 422, doc: docInvalid},
		{name: "create judge without prompt", body: map[string]any{"name": "x", "kind": "model_judge"}, want: 422, doc: docEither},
		{name: "create judge bad provider", body: map[string]any{"name": "x", "prompt": "p", "config": map[string]any{"provider": "mistral"}}, want: 422, doc: docInvalid},
		{name: "create judge empty model", body: map[string]any{"name": "x", "prompt": "p", "config": map[string]any{"model": ""}}, want: 422, doc: docInvalid},
		{name: "create config over 32 KiB", body: map[string]any{"name": "x", "prompt": "p", "config": map[string]any{"model": "m", "pad": strings.Repeat("x", 40000)}}, want: 422, doc: docEither},
		{name: "create number beyond float64", body: `{"name": "x", "prompt": "p", "config": {"big": 1e400}}`, want: 422, doc: docEither},
		{name: "create extra data", body: `{"name": "x", "prompt": "p"}]`, want: 422, doc: docEither}, // kin-openapi ignores what follows the value
		{name: "create not JSON", body: `{"name": `, want: 422, doc: docInvalid},
		{name: "create array body", body: `[{"name": "x"}]`, want: 422, doc: docInvalid},
		{name: "create empty body", body: "", want: 422, doc: docInvalid},
		{name: "create over 1 MiB", body: bigBody("name"), want: 413, doc: docEither},
	} {
		c.method, c.path = "POST", "/v1/evaluators"
		do(c)
	}
	do(call{name: "get evaluator", method: "GET", path: "/v1/evaluators/" + regex, want: 200})
	do(call{name: "get evaluator of another org", method: "GET", path: "/v1/evaluators/" + regex, key: otherKey, want: 404})
	do(call{name: "get missing evaluator", method: "GET", path: "/v1/evaluators/" + missing, want: 404})
	do(call{name: "get evaluator bad id", method: "GET", path: "/v1/evaluators/not-a-uuid", want: 422, doc: docInvalid})
	do(call{name: "get evaluator without key", method: "GET", path: "/v1/evaluators/" + regex, key: noKey, want: 401})
	page := do(call{name: "list evaluators page 1", method: "GET", path: "/v1/evaluators?limit=2", want: 200})
	next := jsonStr(page["next_cursor"])
	if next == "" || page["has_more"] != true {
		t.Fatalf("list evaluators limit=2 of 5: %s", cf.lastBody)
	}
	do(call{name: "list evaluators page 2", method: "GET", path: "/v1/evaluators?limit=2&cursor=" + next, want: 200})
	do(call{name: "list evaluators cursor of another org", method: "GET", path: "/v1/evaluators?cursor=" + next, key: otherKey, want: 422, doc: docEither})
	do(call{name: "list evaluators tampered cursor", method: "GET", path: "/v1/evaluators?cursor=x" + next, want: 422, doc: docEither})
	do(call{name: "list active evaluators", method: "GET", path: "/v1/evaluators?status=active&limit=200", want: 200})
	do(call{name: "list evaluators bad status", method: "GET", path: "/v1/evaluators?status=gone", want: 422, doc: docInvalid})
	do(call{name: "list evaluators limit 0", method: "GET", path: "/v1/evaluators?limit=0", want: 422, doc: docInvalid})
	do(call{name: "list evaluators limit 201", method: "GET", path: "/v1/evaluators?limit=201", want: 422, doc: docInvalid})
	do(call{name: "list evaluators limit not a number", method: "GET", path: "/v1/evaluators?limit=ten", want: 422, doc: docInvalid})
	do(call{name: "list evaluators empty limit", method: "GET", path: "/v1/evaluators?limit=", want: 422, doc: docInvalid})
	do(call{name: "list evaluators empty status", method: "GET", path: "/v1/evaluators?status=", want: 422, doc: docInvalid})
	do(call{name: "list evaluators empty cursor", method: "GET", path: "/v1/evaluators?cursor=", want: 200})
	do(call{name: "list evaluators without key", method: "GET", path: "/v1/evaluators", key: noKey, want: 401})

	ev := "/v1/evaluators/"
	do(call{name: "patch severity", method: "PATCH", path: ev + regex, body: map[string]any{"severity": "critical", "description": "refunds"}, want: 200})
	do(call{name: "patch archive", method: "PATCH", path: ev + archived, body: map[string]any{"status": "archived"}, want: 200})
	do(call{name: "patch nothing", method: "PATCH", path: ev + expr, body: map[string]any{}, want: 200})
	do(call{name: "patch null config", method: "PATCH", path: ev + expr, body: map[string]any{"config": nil}, want: 200})
	for _, c := range []call{
		{name: "patch bad pattern", path: ev + regex, body: map[string]any{"config": map[string]any{"pattern": "[", "target": "any"}}, want: 400},
		{name: "patch bad status", path: ev + regex, body: map[string]any{"status": "deleted"}, want: 422, doc: docInvalid},
		{name: "patch null name", path: ev + regex, body: map[string]any{"name": nil}, want: 422, doc: docInvalid},
		{name: "patch threshold as string", path: ev + regex, body: map[string]any{"threshold": "0.5"}, want: 422, doc: docInvalid},
		{name: "patch bad id", path: ev + "123", body: map[string]any{}, want: 422, doc: docInvalid},
		{name: "patch missing", path: ev + missing, body: map[string]any{"name": "x"}, want: 404},
		{name: "patch without key", path: ev + regex, body: map[string]any{}, key: noKey, want: 401},
		{name: "patch over 1 MiB", path: ev + regex, body: bigBody("prompt"), want: 413, doc: docEither},
	} {
		c.method = "PATCH"
		do(c)
	}

	// Bindings.
	bindings := "/v1/evaluator-bindings"
	bind := func(name, evaluator string, critical bool) string {
		return jsonStr(do(call{name: name, method: "POST", path: bindings, want: 201, body: map[string]any{
			"evaluator_id": evaluator, "scope": "agent", "agent_id": agent, "is_critical": critical,
		}})["id"])
	}
	bRegex := bind("bind regex", regex, true)
	bind("bind expression", expr, false)
	bind("bind model_judge", judgeEv, false)
	bScenario := jsonStr(do(call{name: "bind to a scenario", method: "POST", path: bindings, want: 201, body: map[string]any{
		"evaluator_id": regex, "scope": "scenario", "scenario_id": scenario, "agent_id": nil,
	}})["id"])
	do(call{name: "bind critical null", method: "POST", path: bindings, want: 201, body: map[string]any{
		"evaluator_id": expr, "scope": "scenario", "scenario_id": scenario, "is_critical": nil,
	}})
	for _, c := range []call{
		{name: "bind twice", body: map[string]any{"evaluator_id": regex, "scope": "agent", "agent_id": agent}, want: 409},
		{name: "bind missing evaluator", body: map[string]any{"evaluator_id": missing, "scope": "agent", "agent_id": agent}, want: 404},
		{name: "bind archived evaluator", body: map[string]any{"evaluator_id": archived, "scope": "agent", "agent_id": agent}, want: 400},
		{name: "bind without scope", body: map[string]any{"evaluator_id": regex, "agent_id": agent}, want: 422, doc: docInvalid},
		{name: "bind bad scope", body: map[string]any{"evaluator_id": regex, "scope": "team", "agent_id": agent}, want: 422, doc: docInvalid},
		{name: "bind agent scope without agent", body: map[string]any{"evaluator_id": regex, "scope": "agent", "scenario_id": scenario}, want: 422, doc: docEither},
		{name: "bind bad evaluator id", body: map[string]any{"evaluator_id": "e1", "scope": "agent", "agent_id": agent}, want: 422, doc: docInvalid},
		{name: "bind critical as string", body: map[string]any{"evaluator_id": regex, "scope": "agent", "agent_id": agent, "is_critical": "yes"}, want: 422, doc: docInvalid},
		{name: "bind without key", body: map[string]any{"evaluator_id": regex, "scope": "agent", "agent_id": agent}, key: noKey, want: 401},
		{name: "bind over 1 MiB", body: bigBody("evaluator_id"), want: 413, doc: docEither},
	} {
		c.method, c.path = "POST", bindings
		do(c)
	}
	do(call{name: "list bindings", method: "GET", path: bindings + "?agent_id=" + agent + "&evaluator_id=" + regex, want: 200})
	do(call{name: "list bindings of a scenario", method: "GET", path: bindings + "?scenario_id=" + scenario + "&limit=1", want: 200})
	do(call{name: "list bindings bad id", method: "GET", path: bindings + "?agent_id=a1", want: 422, doc: docInvalid})
	do(call{name: "list bindings empty id", method: "GET", path: bindings + "?evaluator_id=", want: 422, doc: docInvalid})
	do(call{name: "list bindings without key", method: "GET", path: bindings, key: noKey, want: 401})
	do(call{name: "get binding", method: "GET", path: bindings + "/" + bRegex, want: 200})
	do(call{name: "get missing binding", method: "GET", path: bindings + "/" + missing, want: 404})
	do(call{name: "get binding bad id", method: "GET", path: bindings + "/zzz", want: 422, doc: docInvalid})
	do(call{name: "get binding without key", method: "GET", path: bindings + "/" + bRegex, key: noKey, want: 401})
	do(call{name: "patch binding", method: "PATCH", path: bindings + "/" + bRegex, body: map[string]any{"is_critical": true}, want: 200})
	do(call{name: "patch binding empty", method: "PATCH", path: bindings + "/" + bRegex, body: map[string]any{}, want: 200})
	do(call{name: "patch binding null", method: "PATCH", path: bindings + "/" + bRegex, body: map[string]any{"is_critical": nil}, want: 200})
	do(call{name: "patch binding bad value", method: "PATCH", path: bindings + "/" + bRegex, body: map[string]any{"is_critical": 1}, want: 422, doc: docInvalid})
	do(call{name: "patch missing binding", method: "PATCH", path: bindings + "/" + missing, body: map[string]any{"is_critical": false}, want: 404})
	do(call{name: "patch binding without key", method: "PATCH", path: bindings + "/" + bRegex, body: map[string]any{}, key: noKey, want: 401})
	do(call{name: "patch binding over 1 MiB", method: "PATCH", path: bindings + "/" + bRegex, body: bigBody("is_critical"), want: 413, doc: docEither})
	do(call{name: "delete binding", method: "DELETE", path: bindings + "/" + bScenario, want: 204})
	do(call{name: "delete binding again", method: "DELETE", path: bindings + "/" + bScenario, want: 404})
	do(call{name: "delete binding bad id", method: "DELETE", path: bindings + "/1", want: 422, doc: docInvalid})
	do(call{name: "delete binding without key", method: "DELETE", path: bindings + "/" + bScenario, key: noKey, want: 401})

	// Eval config.
	cfg := "/v1/agents/" + agent + "/eval-config"
	do(call{name: "get eval config", method: "GET", path: cfg, want: 200})
	do(call{name: "get eval config bad id", method: "GET", path: "/v1/agents/agent-1/eval-config", want: 422, doc: docInvalid})
	do(call{name: "get eval config without key", method: "GET", path: cfg, key: noKey, want: 401})
	do(call{name: "put eval config", method: "PUT", path: cfg, body: map[string]any{"evaluate_live": false, "evaluate_test": nil}, want: 200})
	do(call{name: "put eval config back", method: "PUT", path: cfg, body: map[string]any{"evaluate_live": true}, want: 200})
	do(call{name: "put eval config bad value", method: "PUT", path: cfg, body: map[string]any{"evaluate_test": "no"}, want: 422, doc: docInvalid})
	do(call{name: "put eval config not JSON", method: "PUT", path: cfg, body: "{", want: 422, doc: docInvalid})
	do(call{name: "put eval config without key", method: "PUT", path: cfg, body: map[string]any{}, key: noKey, want: 401})
	do(call{name: "put eval config over 1 MiB", method: "PUT", path: cfg, body: bigBody("evaluate_live"), want: 413, doc: docEither})

	// Conversations.
	convPath := "/v1/v2/conversations/" + conv
	upsert := map[string]any{
		"agent_id": agent, "scenario_id": nil, "session_type": "live", "channel": "chat", "status": "active",
		"started_at": "2026-12-04T11:58:00Z", "ended_at": nil, "metadata": map[string]any{"tier": "gold", "n": 3},
		"turns": []any{
			map[string]any{"role": "user", "content": "Can I get a refund?", "created_at": "2026-12-04T11:58:10Z"},
			map[string]any{"role": "assistant", "content": "Let me check.", "tool_calls": []any{map[string]any{
				"id": "call_1", "type": "function", "function": map[string]any{"name": "lookup", "arguments": "{}"}}}},
			map[string]any{"id": uuid.NewString(), "role": "tool", "content": "ok", "tool_results": map[string]any{"tool_call_id": "call_1", "output": "eligible"}},
			map[string]any{"role": "assistant", "content": "Yes, a refund is possible.", "tool_calls": nil, "tool_results": []any{}},
		},
	}
	do(call{name: "create conversation", method: "PUT", path: convPath, body: upsert, want: 201})
	do(call{name: "replace conversation", method: "PUT", path: convPath, body: upsert, want: 200})
	do(call{name: "create conversation with nulls", method: "PUT", path: "/v1/v2/conversations/" + uuid.NewString(), want: 201, body: map[string]any{
		"agent_id": agent, "session_type": "test", "channel": "chat", "status": "active", "metadata": nil,
		"turns": []any{map[string]any{"id": nil, "role": "user", "content": "hi", "created_at": nil, "tool_calls": nil, "tool_results": nil}},
	}})
	do(call{name: "create conversation with null turns", method: "PUT", path: "/v1/v2/conversations/" + uuid.NewString(), want: 201, body: map[string]any{
		"agent_id": agent, "session_type": "test", "channel": "chat", "status": "active", "turns": nil,
	}})
	for _, c := range []call{
		{name: "put conversation without agent", body: map[string]any{"session_type": "live", "channel": "c", "status": "active"}, want: 422, doc: docInvalid},
		{name: "put conversation bad session type", body: map[string]any{"agent_id": agent, "session_type": "prod", "channel": "c", "status": "active"}, want: 422, doc: docInvalid},
		{name: "put conversation bad role", body: map[string]any{"agent_id": agent, "session_type": "live", "channel": "c", "status": "active",
			"turns": []any{map[string]any{"role": "bot", "content": "hi"}}}, want: 422, doc: docInvalid},
		{name: "put conversation bad time", body: map[string]any{"agent_id": agent, "session_type": "live", "channel": "c", "status": "active", "started_at": "yesterday"}, want: 422, doc: docInvalid},
		{name: "put conversation turns not a list", body: map[string]any{"agent_id": agent, "session_type": "live", "channel": "c", "status": "active", "turns": map[string]any{}}, want: 422, doc: docInvalid},
		{name: "put conversation channel too long", body: map[string]any{"agent_id": agent, "session_type": "live", "channel": strings.Repeat("c", 65), "status": "active"}, want: 422, doc: docInvalid},
		{name: "put conversation bad id", body: upsert, want: 422, doc: docInvalid},
		{name: "put conversation without key", body: upsert, key: noKey, want: 401},
		{name: "put conversation over 1 MiB", body: bigBody("channel"), want: 413, doc: docEither},
	} {
		c.method, c.path = "PUT", convPath
		if c.name == "put conversation bad id" {
			c.path = "/v1/v2/conversations/c1"
		}
		do(c)
	}
	do(call{name: "get conversation", method: "GET", path: convPath, want: 200})
	do(call{name: "get conversation of another org", method: "GET", path: convPath, key: otherKey, want: 404})
	do(call{name: "get conversation bad id", method: "GET", path: "/v1/v2/conversations/" + conv + "x", want: 422, doc: docInvalid})
	do(call{name: "get conversation without key", method: "GET", path: convPath, key: noKey, want: 401})

	// Reevaluate, then everything that conflicts with a task in flight.
	task := jsonStr(do(call{name: "reevaluate", method: "POST", path: convPath + "/reevaluate", want: 202})["task_id"])
	do(call{name: "reevaluate while in progress (legacy)", method: "POST", path: "/v1/sessions/" + conv + "/reevaluate", want: 409})
	do(call{name: "reevaluate while in progress", method: "POST", path: convPath + "/reevaluate", want: 409})
	do(call{name: "put conversation while evaluating", method: "PUT", path: convPath, body: upsert, want: 409})
	do(call{name: "delete conversation while evaluating", method: "DELETE", path: convPath, want: 409})
	do(call{name: "get conversation while evaluating", method: "GET", path: convPath, want: 200})
	do(call{name: "get queued task", method: "GET", path: "/v1/eval-tasks/" + task, want: 200})
	f.runTaskNoJudge(task, conv)
	do(call{name: "get completed task", method: "GET", path: "/v1/eval-tasks/" + task, want: 200})
	do(call{name: "get missing task", method: "GET", path: "/v1/eval-tasks/" + missing, want: 404})
	do(call{name: "get task bad id", method: "GET", path: "/v1/eval-tasks/t1", want: 422, doc: docInvalid})
	do(call{name: "get task without key", method: "GET", path: "/v1/eval-tasks/" + task, key: noKey, want: 401})
	for _, c := range []call{
		{name: "reevaluate missing", path: "/v1/v2/conversations/" + missing + "/reevaluate", want: 404},
		{name: "reevaluate missing (legacy)", path: "/v1/sessions/" + missing + "/reevaluate", want: 404},
		{name: "reevaluate of another org", path: convPath + "/reevaluate", key: otherKey, want: 404},
		{name: "reevaluate bad id", path: "/v1/v2/conversations/nope/reevaluate", want: 422, doc: docInvalid},
		{name: "reevaluate bad id (legacy)", path: "/v1/sessions/nope/reevaluate", want: 422, doc: docInvalid},
		{name: "reevaluate without key", path: convPath + "/reevaluate", key: noKey, want: 401},
		{name: "reevaluate without key (legacy)", path: "/v1/sessions/" + conv + "/reevaluate", key: noKey, want: 401},
	} {
		c.method = "POST"
		do(c)
	}

	// Runs: three of them, one per bound evaluator; the judge's errored.
	runs := "/v1/eval-runs"
	list := do(call{name: "list runs of the conversation", method: "GET", path: runs + "?session_id=" + conv, want: 200})
	items, _ := list["items"].([]any)
	var errored, completed string
	for _, it := range items {
		r, _ := it.(map[string]any)
		switch r["status"] {
		case "errored":
			errored = jsonStr(r["id"])
		case "completed":
			completed = jsonStr(r["id"])
		}
	}
	if len(items) != 3 || errored == "" || completed == "" {
		t.Fatalf("runs after the worker: want 3 with one errored and some completed: %s", cf.lastBody)
	}
	first := do(call{name: "list runs page 1", method: "GET", path: runs + "?limit=1", want: 200})
	runCursor := jsonStr(first["next_cursor"])
	if runCursor == "" {
		t.Fatalf("list runs limit=1: no cursor: %s", cf.lastBody)
	}
	for _, c := range []call{
		{name: "list runs page 2", path: runs + "?limit=1&cursor=" + runCursor, want: 200},
		{name: "list runs filtered", path: runs + "?evaluator_id=" + regex + "&agent_id=" + agent + "&task_id=" + task + "&scope=live&status=completed&outcome=passed", want: 200},
		{name: "list runs by score", path: runs + "?score_min=0&score_max=1", want: 200},
		{name: "list errored runs", path: runs + "?outcome=errored&status=errored", want: 200},
		{name: "list runs of a missing conversation", path: runs + "?session_id=" + missing, want: 200},
		{name: "list runs cursor of another org", path: runs + "?cursor=" + runCursor, key: otherKey, want: 422, doc: docEither},
		{name: "list runs tampered cursor", path: runs + "?cursor=" + runCursor[:len(runCursor)-3], want: 422, doc: docEither},
		{name: "list runs bad status", path: runs + "?status=done", want: 422, doc: docInvalid},
		{name: "list runs bad outcome", path: runs + "?outcome=maybe", want: 422, doc: docInvalid},
		{name: "list runs bad scope", path: runs + "?scope=agent", want: 422, doc: docInvalid},
		{name: "list runs score out of range", path: runs + "?score_min=-0.1", want: 422, doc: docInvalid},
		{name: "list runs score not a number", path: runs + "?score_max=high", want: 422, doc: docInvalid},
		{name: "list runs bad session id", path: runs + "?session_id=s1", want: 422, doc: docInvalid},
		{name: "list runs limit 500", path: runs + "?limit=500", want: 422, doc: docInvalid},
		{name: "list runs empty score", path: runs + "?score_min=", want: 422, doc: docInvalid},
		{name: "list runs empty outcome", path: runs + "?outcome=", want: 422, doc: docInvalid},
		{name: "get run with empty include", path: runs + "/" + completed + "?include=", want: 200},
		{name: "list runs without key", path: runs, key: noKey, want: 401},
		{name: "get run", path: runs + "/" + completed, want: 200},
		{name: "get run with session and turns", path: runs + "/" + completed + "?include=session,turns", want: 200},
		{name: "get run with unknown include", path: runs + "/" + errored + "?include=scores,session", want: 200},
		{name: "get run of another org", path: runs + "/" + completed, key: otherKey, want: 404},
		{name: "get missing run", path: runs + "/" + missing, want: 404},
		{name: "get run bad id", path: runs + "/r1", want: 422, doc: docInvalid},
		{name: "get run without key", path: runs + "/" + completed, key: noKey, want: 401},
	} {
		c.method = "GET"
		do(c)
	}

	// Retry.
	do(call{name: "retry completed run", method: "POST", path: runs + "/" + completed + "/retry", want: 409})
	if got := jsonStr(decode[map[string]any](t, cf.lastBody)["error"]); got != "run_not_retryable" {
		t.Errorf("retry of a completed run: error %q, want run_not_retryable", got)
	}
	retryTask := jsonStr(do(call{name: "retry errored run", method: "POST", path: runs + "/" + errored + "/retry", want: 202})["task_id"])
	do(call{name: "retry while in progress", method: "POST", path: runs + "/" + errored + "/retry", want: 409})
	do(call{name: "get retry task", method: "GET", path: "/v1/eval-tasks/" + retryTask, want: 200})
	f.runTaskNoJudge(retryTask, conv)
	do(call{name: "get finished retry task", method: "GET", path: "/v1/eval-tasks/" + retryTask, want: 200})
	do(call{name: "get retried run", method: "GET", path: runs + "/" + errored + "?include=turns", want: 200})
	do(call{name: "retry missing run", method: "POST", path: runs + "/" + missing + "/retry", want: 404})
	do(call{name: "retry run of another org", method: "POST", path: runs + "/" + errored + "/retry", key: otherKey, want: 404})
	do(call{name: "retry bad id", method: "POST", path: runs + "/x/retry", want: 422, doc: docInvalid})
	do(call{name: "retry without key", method: "POST", path: runs + "/" + errored + "/retry", key: noKey, want: 401})

	// The legacy alias re-runs everything with fresh snapshots; the old runs
	// are gone from the moment of the 202.
	again := jsonStr(do(call{name: "reevaluate again (legacy)", method: "POST", path: "/v1/sessions/" + conv + "/reevaluate", want: 202})["task_id"])
	do(call{name: "get wiped run", method: "GET", path: runs + "/" + completed, want: 404})
	f.runTaskNoJudge(again, conv)
	do(call{name: "list runs of the new generation", method: "GET", path: runs + "?session_id=" + conv + "&task_id=" + again, want: 200})

	// A conversation that arrives closed is evaluated automatically.
	closed := uuid.NewSHA1(uuid.NameSpaceURL, []byte("plume-closed-"+uuid.NewString())).String()
	closedBody := map[string]any{"agent_id": agent, "session_type": "live", "channel": "voice", "status": "closed",
		"turns": []any{map[string]any{"role": "user", "content": "bye"}}}
	do(call{name: "create closed conversation", method: "PUT", path: "/v1/v2/conversations/" + closed, body: closedBody, want: 201})
	do(call{name: "get auto-evaluated conversation", method: "GET", path: "/v1/v2/conversations/" + closed, want: 200})
	if got := decode[map[string]any](t, cf.lastBody)["eval_summary"].(map[string]any)["eval_status"]; got != "pending" {
		t.Errorf("closed conversation: eval_status %v, want pending (evaluated automatically)", got)
	}

	// Deletes.
	do(call{name: "delete conversation", method: "DELETE", path: convPath, want: 204})
	do(call{name: "delete conversation again", method: "DELETE", path: convPath, want: 404})
	do(call{name: "delete conversation bad id", method: "DELETE", path: "/v1/v2/conversations/1", want: 422, doc: docInvalid})
	do(call{name: "delete conversation without key", method: "DELETE", path: convPath, key: noKey, want: 401})
	do(call{name: "get deleted conversation", method: "GET", path: convPath, want: 404})
	do(call{name: "get run of a deleted conversation", method: "GET", path: runs + "/" + completed, want: 404})
	do(call{name: "delete evaluator", method: "DELETE", path: ev + doomed, want: 204})
	do(call{name: "delete evaluator again", method: "DELETE", path: ev + doomed, want: 404})
	do(call{name: "delete evaluator bad id", method: "DELETE", path: ev + "e2", want: 422, doc: docInvalid})
	do(call{name: "delete evaluator without key", method: "DELETE", path: ev + regex, key: noKey, want: 401})
	do(call{name: "delete bound evaluator", method: "DELETE", path: ev + regex, want: 204})
	do(call{name: "binding of a deleted evaluator", method: "GET", path: bindings + "/" + bRegex, want: 404})

	cf.checkCoverage()
	ops := len(cf.covered)
	t.Logf("%d requests and responses validated against openapi.json across %d operations", cf.count, ops)
	if ops != len(api.Routes) {
		t.Errorf("the session reached %d operations, want all %d", ops, len(api.Routes))
	}
}
