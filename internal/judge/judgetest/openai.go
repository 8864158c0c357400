package judgetest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// NewOpenAI starts a server that speaks the OpenAI Chat Completions API
// (POST {URL}/chat/completions or {URL}/v1/chat/completions) and answers from
// script; it is closed when t ends. Give s.URL as the provider's base URL.
func NewOpenAI(t testing.TB, script ...Step) *Server {
	t.Helper()
	return startT(t, openAIFlavor{}, script)
}

// StartOpenAI is NewOpenAI outside a test (the local dev stack): the caller closes the server.
func StartOpenAI(script ...Step) *Server { return start(openAIFlavor{}, script) }

type openAIFlavor struct{}

func (openAIFlavor) read(r *http.Request, body []byte, req *Request) *wireError {
	if r.Method != http.MethodPost || (r.URL.Path != "/chat/completions" && r.URL.Path != "/v1/chat/completions") {
		return &wireError{http.StatusNotFound, "invalid_request_error", "Invalid URL (" + r.Method + " " + r.URL.Path + ")"}
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		return &wireError{http.StatusUnauthorized, "invalid_request_error", "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."}
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return &wireError{http.StatusBadRequest, "invalid_request_error", "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON."}
	}
	req.Model, _ = m["model"].(string)
	if req.Model == "" {
		return &wireError{http.StatusBadRequest, "invalid_request_error", "you must provide a model parameter"}
	}
	msgs, _ := m["messages"].([]any)
	if len(msgs) == 0 {
		return &wireError{http.StatusBadRequest, "invalid_request_error", "[] is too short - 'messages'"}
	}
	var system, user strings.Builder
	for i, raw := range msgs {
		msg, _ := raw.(map[string]any)
		role, _ := msg["role"].(string)
		text, ok := textOf(msg["content"])
		if !ok {
			return &wireError{http.StatusBadRequest, "invalid_request_error", "Invalid type for 'messages[" + strconv.Itoa(i) + "].content'"}
		}
		switch role {
		case "system", "developer":
			system.WriteString(text)
		case "user":
			user.WriteString(text)
		case "assistant", "tool":
		default:
			return &wireError{http.StatusBadRequest, "invalid_request_error", "Invalid value for 'messages[" + strconv.Itoa(i) + "].role'"}
		}
	}
	req.System, req.User = system.String(), user.String()
	if t, ok := number(m, "temperature"); ok {
		req.Temperature = &t
		if t < 0 || t > 2 {
			return &wireError{http.StatusBadRequest, "invalid_request_error", "Invalid 'temperature': decimal above maximum value."}
		}
	}
	if n, ok := number(m, "max_completion_tokens"); ok {
		req.MaxTokens = int64(n)
	} else if n, ok := number(m, "max_tokens"); ok {
		req.MaxTokens = int64(n)
	}
	if rf, ok := m["response_format"].(map[string]any); ok && rf["type"] == "json_schema" {
		js, _ := rf["json_schema"].(map[string]any)
		if name, _ := js["name"].(string); name == "" {
			return &wireError{http.StatusBadRequest, "invalid_request_error", "Missing required parameter: 'response_format.json_schema.name'."}
		}
		req.Schema, _ = js["schema"].(map[string]any)
		req.Format = formatOf(req.Schema)
	}
	return nil
}

func (openAIFlavor) writeError(w http.ResponseWriter, _ int, status int, typ, code, msg string) {
	defType, defCode := "invalid_request_error", ""
	switch {
	case status == http.StatusUnauthorized:
		defCode = "invalid_api_key"
	case status == http.StatusForbidden:
		defType = "permission_error"
	case status == http.StatusNotFound:
		defCode = "model_not_found"
	case status == http.StatusTooManyRequests:
		defType, defCode = "requests", "rate_limit_exceeded"
	case status >= 500:
		defType = "server_error"
	}
	if typ == "" {
		typ = defType
		if code == "" {
			code = defCode
		}
	}
	if msg == "" {
		msg = statusMessage(status)
	}
	var c any
	if code != "" {
		c = code
	}
	writeJSON(w, status, map[string]any{
		"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": c},
	})
}

func (openAIFlavor) writeReply(w http.ResponseWriter, rep reply) {
	finish := "stop"
	if rep.finish != "" {
		finish = rep.finish
	}
	message := map[string]any{"role": "assistant", "content": rep.text, "refusal": nil, "annotations": []any{}}
	if rep.refusal != "" {
		message["content"], message["refusal"] = nil, rep.refusal
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id":      "chatcmpl-judgetest-" + strconv.Itoa(rep.n),
		"object":  "chat.completion",
		"created": time.Now().Unix(),
		"model":   rep.model,
		"choices": []any{map[string]any{
			"index":         0,
			"message":       message,
			"logprobs":      nil,
			"finish_reason": finish,
		}},
		"usage": map[string]any{
			"prompt_tokens":     rep.usage.InputTokens,
			"completion_tokens": rep.usage.OutputTokens,
			"total_tokens":      rep.usage.InputTokens + rep.usage.OutputTokens,
			"prompt_tokens_details": map[string]any{
				"cached_tokens": 0, "audio_tokens": 0,
			},
			"completion_tokens_details": map[string]any{
				"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0,
			},
		},
		"service_tier":       "default",
		"system_fingerprint": "fp_judgetest",
	})
}
