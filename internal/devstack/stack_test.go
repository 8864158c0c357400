package devstack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/plume-evals/plume/internal/devstack"
	"github.com/plume-evals/plume/internal/judge/judgetest"
)

// TestWalkthrough is the README's walkthrough against `make dev`'s stack,
// with an OpenAI-compatible judge at OPENAI_BASE_URL: create evaluators,
// bind them, ingest a closed conversation (evaluated automatically), watch
// the runs complete, then reevaluate (202) twice (409).
func TestWalkthrough(t *testing.T) {
	judge := judgetest.NewOpenAI(t, judgetest.Score(0.82, "courteous and resolved the issue").WithUsage(900, 60).After(50*time.Millisecond))
	env := map[string]string{"OPENAI_BASE_URL": judge.URL, "OPENAI_API_KEY": "sk-local"}
	s, err := devstack.Start(context.Background(), devstack.Options{
		HTTPAddr: "127.0.0.1:0", MotoAddr: "127.0.0.1:0", DevKey: "walkthrough-key",
		Getenv: func(k string) string { return env[k] },
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	call := func(method, path string, body any, want int) map[string]any {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, s.APIURL+path, rd)
		req.Header.Set("x-api-key", "walkthrough-key")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		raw, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(raw, &out)
		if resp.StatusCode != want {
			t.Fatalf("%s %s = %d %s, want %d", method, path, resp.StatusCode, raw, want)
		}
		return out
	}
	agent, conv := uuid.NewString(), uuid.NewString()
	judgeEv := call("POST", "/v1/evaluators", map[string]any{
		"name": "Helpfulness", "kind": "model_judge", "format": "score", "threshold": 0.7, "severity": "high",
		"prompt": "Rate how helpful the agent was, 0 to 1.", "config": map[string]any{"provider": "openai", "model": "gpt-4o-mini"},
	}, 201)
	regexEv := call("POST", "/v1/evaluators", map[string]any{
		"name": "No refund promises", "kind": "regex", "format": "boolean",
		"config": map[string]any{"pattern": "(?i)guaranteed refund", "target": "assistant", "must_match": false},
	}, 201)
	for _, e := range []map[string]any{judgeEv, regexEv} {
		call("POST", "/v1/evaluator-bindings", map[string]any{"evaluator_id": e["id"], "scope": "agent", "agent_id": agent, "is_critical": true}, 201)
	}
	call("PUT", "/v1/v2/conversations/"+conv, map[string]any{
		"agent_id": agent, "session_type": "live", "channel": "chat", "status": "closed",
		"turns": []map[string]any{
			{"role": "user", "content": "My parcel is late."},
			{"role": "assistant", "content": "Sorry about that: it ships today with express delivery."},
		},
	}, 201)
	deadline := time.Now().Add(30 * time.Second)
	var summary map[string]any
	for time.Now().Before(deadline) {
		summary = call("GET", "/v1/v2/conversations/"+conv, nil, 200)["eval_summary"].(map[string]any)
		if summary["total"] == 2.0 && summary["pending"] == 0.0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if summary["eval_status"] != "success" || summary["succeeded"] != 2.0 {
		t.Fatalf("eval_summary = %v, want both critical runs succeeded", summary)
	}
	runs := call("GET", "/v1/eval-runs?session_id="+conv, nil, 200)["items"].([]any)
	if len(runs) != 2 {
		t.Fatalf("runs = %d", len(runs))
	}
	for _, r := range runs {
		run := r.(map[string]any)
		if run["status"] != "completed" {
			t.Errorf("run %v", run)
		}
		if run["kind_snapshot"] == "model_judge" && (run["input_tokens"] != 900.0 || run["output_tokens"] != 60.0 || run["cost_usd"].(float64) <= 0) {
			t.Errorf("judge run tokens/cost: %v %v %v", run["input_tokens"], run["output_tokens"], run["cost_usd"])
		}
	}
	call("POST", "/v1/v2/conversations/"+conv+"/reevaluate", nil, 202)
	call("POST", "/v1/v2/conversations/"+conv+"/reevaluate", nil, 409)
	// The seeded demo works out of the box.
	call("POST", "/v1/v2/conversations/"+devstack.DemoConv+"/reevaluate", nil, 202)
}
