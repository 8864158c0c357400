package judgetest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// AnthropicVersion is the newest anthropic-version the server knows; from this
// version on it refuses sampling parameters (temperature, top_p, top_k) with a
// 400, as the Claude API does.
const AnthropicVersion = "2026-10-21"

// NewAnthropic starts a server that speaks the Anthropic Messages API
// (POST {URL}/v1/messages) and answers from script; it is closed when t ends.
// Give s.URL as the provider's base URL.
func NewAnthropic(t testing.TB, script ...Step) *Server {
	t.Helper()
	return startT(t, anthropicFlavor{}, script)
}

// StartAnthropic is NewAnthropic outside a test (the local dev stack): the caller closes the server.
func StartAnthropic(script ...Step) *Server { return start(anthropicFlavor{}, script) }

type anthropicFlavor struct{}

func (anthropicFlavor) read(r *http.Request, body []byte, req *Request) *wireError {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/messages" {
		return &wireError{http.StatusNotFound, "not_found_error", "Not Found"}
	}
	version := r.Header.Get("anthropic-version")
	if version == "" {
		return &wireError{http.StatusBadRequest, "invalid_request_error", "anthropic-version: header is required"}
	}
	bearer, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if strings.TrimSpace(r.Header.Get("x-api-key")) == "" && strings.TrimSpace(bearer) == "" {
		return &wireError{http.StatusUnauthorized, "authentication_error", "x-api-key header is required"}
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return &wireError{http.StatusBadRequest, "invalid_request_error", "The request body is not valid JSON."}
	}
	req.Model, _ = m["model"].(string)
	if req.Model == "" {
		return &wireError{http.StatusBadRequest, "invalid_request_error", "model: Field required"}
	}
	maxTokens, ok := number(m, "max_tokens")
	if !ok || maxTokens < 1 {
		return &wireError{http.StatusBadRequest, "invalid_request_error", "max_tokens: Field required"}
	}
	req.MaxTokens = int64(maxTokens)
	if version >= AnthropicVersion {
		for _, p := range []string{"temperature", "top_p", "top_k"} {
			if _, ok := m[p]; ok {
				return &wireError{http.StatusBadRequest, "invalid_request_error", p + ": Extra inputs are not permitted"}
			}
		}
	}
	if t, ok := number(m, "temperature"); ok {
		req.Temperature = &t
	}
	if sys, ok := m["system"]; ok {
		text, ok := textOf(sys)
		if !ok {
			return &wireError{http.StatusBadRequest, "invalid_request_error", "system: Input should be a valid string or list of text blocks"}
		}
		req.System = text
	}
	msgs, _ := m["messages"].([]any)
	if len(msgs) == 0 {
		return &wireError{http.StatusBadRequest, "invalid_request_error", "messages: at least one message is required"}
	}
	var user strings.Builder
	for i, raw := range msgs {
		msg, _ := raw.(map[string]any)
		text, ok := textOf(msg["content"])
		if !ok {
			return &wireError{http.StatusBadRequest, "invalid_request_error", "messages." + strconv.Itoa(i) + ".content: Input should be a valid string or list of content blocks"}
		}
		switch msg["role"] {
		case "user":
			user.WriteString(text)
		case "assistant":
		default:
			return &wireError{http.StatusBadRequest, "invalid_request_error", "messages." + strconv.Itoa(i) + ".role: Input should be 'user' or 'assistant'"}
		}
	}
	req.User = user.String()

	if oc, ok := m["output_config"].(map[string]any); ok {
		if f, ok := oc["format"].(map[string]any); ok {
			if f["type"] != "json_schema" {
				return &wireError{http.StatusBadRequest, "invalid_request_error", "output_config.format.type: Input should be 'json_schema'"}
			}
			req.Schema, _ = f["schema"].(map[string]any)
			if req.Schema == nil {
				return &wireError{http.StatusBadRequest, "invalid_request_error", "output_config.format.schema: Field required"}
			}
		}
	}
	if tc, ok := m["tool_choice"].(map[string]any); ok && tc["type"] == "tool" {
		req.Tool, _ = tc["name"].(string)
		tools, _ := m["tools"].([]any)
		for _, raw := range tools {
			tool, _ := raw.(map[string]any)
			if tool["name"] == req.Tool {
				req.Schema, _ = tool["input_schema"].(map[string]any)
			}
		}
		if req.Schema == nil {
			return &wireError{http.StatusBadRequest, "invalid_request_error", "tool_choice: tool " + strconv.Quote(req.Tool) + " is not in tools"}
		}
	}
	req.Format = formatOf(req.Schema)
	return nil
}

func (anthropicFlavor) writeError(w http.ResponseWriter, n, status int, typ, _ string, msg string) {
	if typ == "" {
		switch status {
		case http.StatusBadRequest:
			typ = "invalid_request_error"
		case http.StatusUnauthorized:
			typ = "authentication_error"
		case http.StatusForbidden:
			typ = "permission_error"
		case http.StatusNotFound:
			typ = "not_found_error"
		case http.StatusRequestEntityTooLarge:
			typ = "request_too_large"
		case http.StatusTooManyRequests:
			typ = "rate_limit_error"
		case 529:
			typ = "overloaded_error"
		default:
			typ = "api_error"
		}
	}
	if msg == "" {
		msg = statusMessage(status)
	}
	id := "req_judgetest_" + strconv.Itoa(n)
	w.Header().Set("request-id", id)
	writeJSON(w, status, map[string]any{
		"type":       "error",
		"error":      map[string]any{"type": typ, "message": msg},
		"request_id": id,
	})
}

func (anthropicFlavor) writeReply(w http.ResponseWriter, rep reply) {
	stop := "end_turn"
	var content []any
	switch {
	case rep.refusal != "":
		stop = "refusal"
		content = []any{map[string]any{"type": "text", "text": rep.refusal}}
	case rep.req.Tool != "" && rep.object:
		stop = "tool_use"
		content = []any{map[string]any{
			"type": "tool_use", "id": "toolu_judgetest_" + strconv.Itoa(rep.n), "name": rep.req.Tool,
			"input": json.RawMessage(strings.TrimSpace(rep.text)),
		}}
	default:
		content = []any{map[string]any{"type": "text", "text": rep.text}}
	}
	if rep.finish != "" {
		stop = rep.finish
	}
	id := "req_judgetest_" + strconv.Itoa(rep.n)
	w.Header().Set("request-id", id)
	writeJSON(w, http.StatusOK, map[string]any{
		"id":            "msg_judgetest_" + strconv.Itoa(rep.n),
		"type":          "message",
		"role":          "assistant",
		"model":         rep.model,
		"content":       content,
		"stop_reason":   stop,
		"stop_sequence": nil,
		"usage": map[string]any{
			"input_tokens":                rep.usage.InputTokens,
			"output_tokens":               rep.usage.OutputTokens,
			"cache_creation_input_tokens": 0,
			"cache_read_input_tokens":     0,
			"service_tier":                "standard",
		},
	})
}
