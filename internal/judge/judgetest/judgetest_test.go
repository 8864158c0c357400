package judgetest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plume-evals/plume/internal/judge/judgetest"
)

type answer struct {
	status int
	header http.Header
	body   map[string]any
}

func post(t *testing.T, url string, header map[string]string, body string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("POST %s: answer is not JSON: %s", url, data)
	}
	return answer{res.StatusCode, res.Header, m}
}

// dig walks a decoded JSON value.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

const openAIBody = `{"model": "m", "temperature": 0, "max_completion_tokens": 50,
 "messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "Grade.\n<transcript>\n{\"turns\":[{\"role\":\"user\",\"content\":\"hi \\u003c3\"}]}\n</transcript>"}],
 "response_format": {"type": "json_schema", "json_schema": {"name": "v", "strict": true, "schema": {"type": "object", "properties": {"score": {"type": "number"}, "rationale": {"type": "string"}}}}}}`

var openAIAuth = map[string]string{"Authorization": "Bearer k"}

func TestOpenAIScriptInOrderThenRepeat(t *testing.T) {
	t.Parallel()
	srv := judgetest.NewOpenAI(t, judgetest.RateLimited("1"), judgetest.Score(0.5, "half").WithUsage(12, 3))

	first := post(t, srv.URL+"/chat/completions", openAIAuth, openAIBody)
	if first.status != 429 || first.header.Get("Retry-After") != "1" {
		t.Errorf("first answer = %d, Retry-After %q; want 429, 1", first.status, first.header.Get("Retry-After"))
	}
	wantErr := map[string]any{"error": map[string]any{"message": "Too Many Requests", "type": "requests", "param": nil, "code": "rate_limit_exceeded"}}
	if diff := cmp.Diff(wantErr, first.body); diff != "" {
		t.Errorf("error body mismatch (-want +got):\n%s", diff)
	}

	for i := 0; i < 2; i++ {
		a := post(t, srv.URL+"/v1/chat/completions", openAIAuth, openAIBody)
		got := map[string]any{
			"status":  a.status,
			"object":  dig(a.body, "object"),
			"model":   dig(a.body, "model"),
			"content": dig(a.body, "choices", 0, "message", "content"),
			"finish":  dig(a.body, "choices", 0, "finish_reason"),
			"prompt":  dig(a.body, "usage", "prompt_tokens"),
			"compl":   dig(a.body, "usage", "completion_tokens"),
			"total":   dig(a.body, "usage", "total_tokens"),
		}
		want := map[string]any{
			"status": 200, "object": "chat.completion", "model": "m",
			"content": `{"score":0.5,"rationale":"half"}`, "finish": "stop",
			"prompt": 12.0, "compl": 3.0, "total": 15.0,
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("answer %d mismatch (-want +got):\n%s", i+2, diff)
		}
	}

	reqs := srv.Requests()
	if len(reqs) != 3 || srv.Count() != 3 {
		t.Fatalf("recorded %d requests, want 3", len(reqs))
	}
	r := reqs[0]
	got := map[string]any{"model": r.Model, "system": r.System, "temp": *r.Temperature, "max": r.MaxTokens, "format": r.Format}
	want := map[string]any{"model": "m", "system": "sys", "temp": 0.0, "max": int64(50), "format": "score"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("recorded request mismatch (-want +got):\n%s", diff)
	}
	turns, err := r.Turns()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]judgetest.Turn{{Role: "user", Content: "hi <3"}}, turns); diff != "" {
		t.Errorf("Turns() mismatch (-want +got):\n%s", diff)
	}
}

func TestRefusesLikeTheAPI(t *testing.T) {
	t.Parallel()
	const anthropicBody = `{"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}`
	anthropicHeaders := map[string]string{"anthropic-version": judgetest.AnthropicVersion, "x-api-key": "k"}
	tests := []struct {
		name    string
		serve   func(testing.TB, ...judgetest.Step) *judgetest.Server
		path    string
		header  map[string]string
		body    string
		status  int
		errType string // error.type, or Bedrock's __type
	}{
		{"openai without key", judgetest.NewOpenAI, "/chat/completions", nil, openAIBody, 401, "invalid_request_error"},
		{"openai bad JSON", judgetest.NewOpenAI, "/chat/completions", openAIAuth, `{"model":`, 400, "invalid_request_error"},
		{"openai no messages", judgetest.NewOpenAI, "/chat/completions", openAIAuth, `{"model": "m", "messages": []}`, 400, "invalid_request_error"},
		{"openai wrong path", judgetest.NewOpenAI, "/completions", openAIAuth, openAIBody, 404, "invalid_request_error"},
		{"anthropic without version", judgetest.NewAnthropic, "/v1/messages", map[string]string{"x-api-key": "k"}, anthropicBody, 400, "invalid_request_error"},
		{"anthropic without key", judgetest.NewAnthropic, "/v1/messages", map[string]string{"anthropic-version": judgetest.AnthropicVersion}, anthropicBody, 401, "authentication_error"},
		{"anthropic temperature", judgetest.NewAnthropic, "/v1/messages", anthropicHeaders,
			`{"model": "m", "max_tokens": 10, "temperature": 0, "messages": [{"role": "user", "content": "hi"}]}`, 400, "invalid_request_error"},
		{"anthropic without max_tokens", judgetest.NewAnthropic, "/v1/messages", anthropicHeaders, `{"model": "m", "messages": [{"role": "user", "content": "hi"}]}`, 400, "invalid_request_error"},
		{"bedrock unsigned", judgetest.NewBedrock, "/model/m/converse", nil, `{"messages": [{"role": "user", "content": [{"text": "hi"}]}]}`, 403, "MissingAuthenticationTokenException"},
		{"bedrock wrong path", judgetest.NewBedrock, "/model/m/invoke", map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=x"}, `{}`, 404, "UnknownOperationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := tt.serve(t, judgetest.ServerError(), judgetest.Score(1, "x"))
			a := post(t, srv.URL+tt.path, tt.header, tt.body)
			typ := dig(a.body, "error", "type")
			if typ == nil {
				typ = dig(a.body, "__type")
			}
			if a.status != tt.status || typ != tt.errType {
				t.Errorf("answer = %d %v, want %d %s (body %v)", a.status, typ, tt.status, tt.errType, a.body)
			}
			if srv.Count() != 1 {
				t.Errorf("recorded %d requests, want 1", srv.Count())
			}
		})
	}

	// A refused request does not use up a step.
	srv := judgetest.NewAnthropic(t, judgetest.Passed(true, "ok"))
	post(t, srv.URL+"/v1/messages", map[string]string{"x-api-key": "k"}, anthropicBody)
	a := post(t, srv.URL+"/v1/messages", anthropicHeaders, anthropicBody)
	if got := dig(a.body, "content", 0, "text"); got != `{"passed":true,"rationale":"ok"}` {
		t.Errorf("answer after a refusal = %v, want the first step", got)
	}
}

func TestDefaultVerdictFollowsTheFormat(t *testing.T) {
	t.Parallel()
	srv := judgetest.NewAnthropic(t)
	headers := map[string]string{"anthropic-version": judgetest.AnthropicVersion, "Authorization": "Bearer k"}
	body := func(prop string) string {
		return `{"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
		 "output_config": {"format": {"type": "json_schema", "schema": {"type": "object", "properties": {"` + prop + `": {}, "rationale": {}}}}}}`
	}
	for prop, want := range map[string]string{
		"score":  `{"score":1,"rationale":"judgetest default verdict"}`,
		"passed": `{"passed":true,"rationale":"judgetest default verdict"}`,
	} {
		a := post(t, srv.URL+"/v1/messages", headers, body(prop))
		if got := dig(a.body, "content", 0, "text"); got != want {
			t.Errorf("default verdict for %q = %v, want %s", prop, got, want)
		}
		if got := dig(a.body, "usage", "input_tokens"); got == nil {
			t.Errorf("answer has no usage.input_tokens: %v", a.body)
		}
	}
}

func TestAnthropicForcedToolGetsToolUse(t *testing.T) {
	t.Parallel()
	srv := judgetest.NewAnthropic(t, judgetest.Score(0.25, "low"))
	a := post(t, srv.URL+"/v1/messages", map[string]string{"anthropic-version": "2023-06-01", "x-api-key": "k"},
		`{"model": "m", "max_tokens": 10, "temperature": 0, "messages": [{"role": "user", "content": "hi"}],
		  "tools": [{"name": "verdict", "input_schema": {"type": "object", "properties": {"score": {}, "rationale": {}}}}],
		  "tool_choice": {"type": "tool", "name": "verdict"}}`)
	got := map[string]any{
		"stop":  dig(a.body, "stop_reason"),
		"type":  dig(a.body, "content", 0, "type"),
		"name":  dig(a.body, "content", 0, "name"),
		"input": dig(a.body, "content", 0, "input"),
	}
	want := map[string]any{"stop": "tool_use", "type": "tool_use", "name": "verdict", "input": map[string]any{"score": 0.25, "rationale": "low"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tool answer mismatch (-want +got):\n%s", diff)
	}
	if r := srv.Requests()[0]; r.Tool != "verdict" || r.Format != "score" {
		t.Errorf("recorded Tool %q, Format %q; want verdict, score", r.Tool, r.Format)
	}
}

func TestHangEndsWhenTheServerCloses(t *testing.T) {
	t.Parallel()
	srv := judgetest.StartBedrock(judgetest.Hang())
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/model/m/converse", bytes.NewReader([]byte(`{"messages": [{"role": "user", "content": [{"text": "hi"}]}]}`)))
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x")
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		done <- err
	}()
	for srv.Count() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	closed := make(chan struct{})
	go func() { srv.Close(); srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(3 * time.Second):
		t.Fatal("Close() blocked on a hanging request")
	}
	if err := <-done; err == nil {
		t.Error("the hanging request got an answer, want a broken connection")
	}
}

func TestPushExtendsTheScript(t *testing.T) {
	t.Parallel()
	srv := judgetest.NewOpenAI(t, judgetest.ServerError())
	srv.Push(judgetest.Score(0.5, "pushed"))
	if a := post(t, srv.URL+"/chat/completions", openAIAuth, openAIBody); a.status != 500 {
		t.Errorf("first answer = %d, want 500", a.status)
	}
	a := post(t, srv.URL+"/chat/completions", openAIAuth, openAIBody)
	if got := dig(a.body, "choices", 0, "message", "content"); got != `{"score":0.5,"rationale":"pushed"}` {
		t.Errorf("second answer = %v, want the pushed step", got)
	}
}

func TestVerdictJSON(t *testing.T) {
	t.Parallel()
	tests := map[string]judgetest.Verdict{
		`{"score":0.125,"rationale":"a \"b\" \u003cc\u003e"}`: judgetest.ScoreVerdict(0.125, `a "b" <c>`),
		`{"passed":false,"rationale":""}`:                     judgetest.PassedVerdict(false, ""),
		`{"rationale":"neither"}`:                             {Rationale: "neither"},
	}
	for want, v := range tests {
		if got := v.JSON(); got != want {
			t.Errorf("JSON() = %s, want %s", got, want)
		}
	}
}

func TestTranscriptNeedsOnePair(t *testing.T) {
	t.Parallel()
	for user, ok := range map[string]bool{
		"<transcript>\n{}\n</transcript>":                        true,
		"no tags":                                                false,
		"<transcript>{}</transcript></transcript>":               false,
		"<transcript>{}</transcript><transcript>{}</transcript>": false,
	} {
		if _, got := (judgetest.Request{User: user}).Transcript(); got != ok {
			t.Errorf("Transcript() of %q ok = %v, want %v", user, got, ok)
		}
	}
	if _, err := (judgetest.Request{User: "none"}).Turns(); err == nil {
		t.Error("Turns() without a transcript: want an error")
	}
}
