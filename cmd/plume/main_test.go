package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/plume-evals/plume"
	"github.com/plume-evals/plume/internal/api"
	"github.com/plume-evals/plume/internal/devstack"
	"github.com/plume-evals/plume/internal/eval"
	"github.com/plume-evals/plume/internal/judge"
	"github.com/plume-evals/plume/internal/queue"
	"github.com/plume-evals/plume/internal/scorer"
	"github.com/plume-evals/plume/internal/store"
	"github.com/plume-evals/plume/internal/testenv"
	"github.com/plume-evals/plume/internal/worker"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func TestMain(m *testing.M) { testenv.Main(m) }

// fixture is one test's API, served over HTTP on its own table and queues,
// and a CLI pointed at it with an organization's key.
type fixture struct {
	t     *testing.T
	env   testenv.Env
	store *store.Store
	srv   *httptest.Server
	org   string
	key   string
	cli   *cli
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := testenv.New(t)
	st := store.New(env.DDB, env.Table)
	svc := &eval.Service{Guards: st, Queue: queue.NewSender(env.SQS, env.QueueURL), Lease: 15 * time.Minute,
		Now: time.Now, NewID: uuid.NewString, Log: discard}
	// KeyTTL 0: no key cache, so that a revoked key is refused at once.
	a := &api.API{Store: st, Tasks: svc, Check: scorer.Check, OpenAPI: plume.OpenAPI, Now: time.Now, NewID: uuid.NewString,
		Log: discard, KeyTTL: 0}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	f := &fixture{t: t, env: env, store: st, srv: srv, org: uuid.NewString(), key: "test-" + uuid.NewString()}
	if err := st.PutAPIKey(context.Background(), eval.APIKey{ID: uuid.NewString(), OrgID: f.org, Name: "test",
		Hash: store.HashKey(f.key), CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	f.cli = testCLI(map[string]string{"PLUME_URL": srv.URL, "PLUME_API_KEY": f.key})
	f.cli.http = srv.Client()
	f.cli.openKeys = func(context.Context) (keyStore, error) { return st, nil }
	return f
}

// testCLI returns a CLI with env as its whole environment and no store.
func testCLI(env map[string]string) *cli {
	return &cli{
		getenv: func(k string) string { return env[k] }, stdin: strings.NewReader(""),
		tty: func(io.Writer) bool { return false }, now: time.Now, newID: uuid.NewString,
		openKeys: func(context.Context) (keyStore, error) { panic("the keys store is not expected here") },
		http:     &http.Client{Timeout: 10 * time.Second}, pollMin: 50 * time.Millisecond, pollMax: 200 * time.Millisecond,
	}
}

// result is what one command did.
type result struct {
	code           int
	stdout, stderr string
}

// run runs `plume args...` with stdin.
func run(t *testing.T, c *cli, stdin string, args ...string) result {
	t.Helper()
	cc := *c
	cc.stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	code := cc.run(context.Background(), args, &out, &errb)
	return result{code, out.String(), errb.String()}
}

func (f *fixture) run(args ...string) result {
	f.t.Helper()
	return run(f.t, f.cli, "", args...)
}

// call sends a request to the API with the fixture's key.
func (f *fixture) call(method, path string, body any) (int, []byte) {
	f.t.Helper()
	var rd io.Reader
	if body != nil {
		js, _ := json.Marshal(body)
		rd = bytes.NewReader(js)
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, rd)
	req.Header.Set("x-api-key", f.key)
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// conversation stores an active conversation (not evaluated on arrival)
// with a user turn and an assistant turn.
func (f *fixture) conversation(agent, answer string) string {
	f.t.Helper()
	id := uuid.NewString()
	code, body := f.call("PUT", "/v1/v2/conversations/"+id, map[string]any{
		"agent_id": agent, "session_type": "live", "channel": "chat", "status": "active",
		"turns": []map[string]any{{"role": "user", "content": "Can I return these shoes?"}, {"role": "assistant", "content": answer}},
	})
	if code != 201 {
		f.t.Fatalf("PUT conversation: %d %s", code, body)
	}
	return id
}

// regex creates a regex evaluator bound to agent and returns its id.
func (f *fixture) regex(agent, name, pattern string) string {
	f.t.Helper()
	code, body := f.call("POST", "/v1/evaluators", map[string]any{
		"name": name, "kind": "regex", "format": "boolean", "severity": "high",
		"config": map[string]any{"pattern": pattern, "target": "assistant", "must_match": true},
	})
	if code != 201 {
		f.t.Fatalf("create evaluator: %d %s", code, body)
	}
	var e struct{ ID string }
	_ = json.Unmarshal(body, &e)
	code, body = f.call("POST", "/v1/evaluator-bindings", map[string]any{"evaluator_id": e.ID, "scope": "agent", "agent_id": agent})
	if code != 201 {
		f.t.Fatalf("bind evaluator: %d %s", code, body)
	}
	return e.ID
}

// startWorker runs the worker on the fixture's queue, through the SQS
// handler the Lambda uses, until the test ends.
func (f *fixture) startWorker() {
	w := worker.New(f.store, judge.Set{}, judge.DefaultPrices(), discard)
	h := &worker.Handler{Worker: w}
	p := &devstack.Poller{SQS: f.env.SQS, QueueURL: f.env.QueueURL, QueueARN: "arn:aws:sqs:us-east-1:000000000000:eval",
		Handle: h.Handle, Timeout: 120 * time.Second, Idle: 50 * time.Millisecond, Log: discard}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Run(ctx)
	}()
	f.t.Cleanup(func() {
		cancel()
		<-done
	})
}

// golden compares got with testdata/name.golden (rewritten by -update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs from %s (-want +got):\n%s", name, path, diff)
	}
}

// lines returns the non-empty lines of s.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

var cellSep = regexp.MustCompile(`\s{2,}`)

// table splits a tabwriter table into rows of cells (cells are separated
// by two spaces or more).
func table(s string) [][]string {
	var rows [][]string
	for _, l := range lines(s) {
		rows = append(rows, cellSep.Split(strings.TrimSpace(l), -1))
	}
	return rows
}

// match reports whether row has the cells of want; "*" matches any cell.
func match(row, want []string) bool {
	if len(row) != len(want) {
		return false
	}
	for i := range row {
		if want[i] != "*" && row[i] != want[i] {
			return false
		}
	}
	return true
}
