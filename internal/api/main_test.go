package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/plume-evals/plume"
	"github.com/plume-evals/plume/internal/api"
	"github.com/plume-evals/plume/internal/eval"
	"github.com/plume-evals/plume/internal/queue"
	"github.com/plume-evals/plume/internal/store"
	"github.com/plume-evals/plume/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

func TestMain(m *testing.M) { testenv.Main(m) }

// fixture is one test's API on its own table and queues.
type fixture struct {
	t      *testing.T
	env    testenv.Env
	store  *store.Store
	sender *flakySender
	svc    *eval.Service
	api    *api.API
	h      http.Handler
	org    string
	key    string
	now    time.Time
}

// flakySender wraps the real SQS sender and fails while fail is set.
type flakySender struct {
	real  eval.Sender
	fail  atomic.Bool
	calls atomic.Int64
}

func (f *flakySender) Send(ctx context.Context, t eval.Task) error {
	f.calls.Add(1)
	if f.fail.Load() {
		return errors.New("sqs: injected failure after retries")
	}
	return f.real.Send(ctx, t)
}

var clock = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := testenv.New(t)
	st := store.New(env.DDB, env.Table)
	f := &fixture{t: t, env: env, store: st, org: uuid.NewString(), key: "key-" + uuid.NewString(), now: clock}
	f.sender = &flakySender{real: queue.NewSender(env.SQS, env.QueueURL)}
	now := func() time.Time { return f.now }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.svc = &eval.Service{Guards: st, Queue: f.sender, Lease: 15 * time.Minute, Now: now, NewID: uuid.NewString, Log: log}
	f.api = &api.API{Store: st, Tasks: f.svc, OpenAPI: plume.OpenAPI, Now: now, NewID: uuid.NewString, Log: log, KeyTTL: time.Minute}
	f.h = f.api.Handler()
	f.addKey(f.org, f.key)
	return f
}

func (f *fixture) addKey(org, secret string) {
	f.t.Helper()
	err := f.store.PutAPIKey(context.Background(), eval.APIKey{ID: uuid.NewString(), OrgID: org, Name: "test", Hash: store.HashKey(secret), CreatedAt: clock})
	if err != nil {
		f.t.Fatal(err)
	}
}

// do sends a request with the fixture's key and returns status and body.
func (f *fixture) do(method, path string, body any) (int, []byte) {
	f.t.Helper()
	return f.doKey(f.key, method, path, body)
}

func (f *fixture) doKey(key, method, path string, body any) (int, []byte) {
	f.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		js, _ := json.Marshal(b)
		rd = bytes.NewReader(js)
	}
	req := httptest.NewRequest(method, path, rd)
	if key != "" {
		req.Header.Set("x-api-key", key)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// conversation ingests a closed-or-not conversation through the API.
func (f *fixture) conversation(agent string, status string, turns int) string {
	f.t.Helper()
	return f.conversationID(uuid.NewString(), agent, status, turns)
}

// conversationID ingests a conversation with a given id (for goldens).
func (f *fixture) conversationID(id, agent string, status string, turns int) string {
	f.t.Helper()
	ts := make([]map[string]any, turns)
	for i := range ts {
		role := "user"
		if i%2 == 1 {
			role = "assistant"
		}
		ts[i] = map[string]any{"role": role, "content": "message " + string(rune('a'+i%26))}
	}
	code, body := f.do("PUT", "/v1/v2/conversations/"+id, map[string]any{
		"agent_id": agent, "session_type": "live", "channel": "chat", "status": status, "turns": ts,
	})
	if code != 201 {
		f.t.Fatalf("PUT conversation: %d %s", code, body)
	}
	return id
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// golden compares body with testdata/name.golden.json (rewritten by -update).
func golden(t *testing.T, name string, body []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s: body is not JSON: %s", name, body)
	}
	pretty, _ := json.MarshalIndent(v, "", "  ")
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(pretty, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(bytes.TrimSpace(want)), string(pretty)); diff != "" {
		t.Errorf("%s differs from %s (-want +got):\n%s", name, path, diff)
	}
}
