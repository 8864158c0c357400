package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"error response", 409, `{"error": "eval_in_progress", "message": "an evaluation of this conversation is in progress"}`,
			"409 eval_in_progress: an evaluation of this conversation is in progress"},
		{"unauthorized gets a hint", 401, `{"error": "unauthorized", "message": "unknown or revoked API key"}`,
			"401 unauthorized: unknown or revoked API key (check --key or PLUME_API_KEY)"},
		{"validation error, each detail as loc: msg", 422,
			`{"detail": [{"type": "missing", "loc": ["body", "status"], "msg": "Field required", "input": {}},
			 {"type": "enum", "loc": ["body", "turns", 1, "role"], "msg": "Input should be 'user', 'assistant', 'tool' or 'system'", "input": "bot"}]}`,
			"422 validation error\n  body.status: Field required\n  body.turns.1.role: Input should be 'user', 'assistant', 'tool' or 'system'"},
		{"json_invalid with a byte offset", 422, `{"detail": [{"type": "json_invalid", "loc": ["body", 12], "msg": "JSON decode error"}]}`,
			"422 validation error\n  body.12: JSON decode error"},
		{"FastAPI's plain detail", 404, `{"detail": "Not Found"}`, "404 Not Found: Not Found"},
		{"a gateway's HTML", 502, "<html>\n<body>Bad   Gateway</body></html>", "502 Bad Gateway: <html> <body>Bad Gateway</body></html>"},
		{"empty body", 500, "", "500 Internal Server Error"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := decodeError(c.status, []byte(c.body)).Error(); got != c.want {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestClientSendsKeyAndRetries503(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("x-api-key") != "k" || r.URL.Path != "/stage/v1/eval-tasks/t1" {
			w.WriteHeader(400)
			return
		}
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(503)
			_, _ = w.Write([]byte(`{"error": "service_unavailable", "message": "try again"}`))
			return
		}
		_, _ = w.Write([]byte(`{"task_id": "t1", "status": "running", "total": 2, "completed": 1}`))
	}))
	defer srv.Close()
	cl := &client{base: srv.URL + "/stage", key: "k", hc: srv.Client()}
	got, err := cl.task(context.Background(), "t1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "running" || got.Total != 2 || got.Completed != 1 || calls.Load() != 2 {
		t.Errorf("task %+v after %d calls; want running 1/2 after 2", got, calls.Load())
	}
}

func TestClientCannotConnect(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	r := run(t, testCLI(nil), "", "task", "t1", "--url", "http://"+addr)
	if r.code != exitFail {
		t.Errorf("exit %d, want %d", r.code, exitFail)
	}
	if want := "cannot reach the API at http://" + addr; !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "is make dev running?") {
		t.Errorf("stderr %q, want %q and a hint", r.stderr, want)
	}
}
