package judgetest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// NewBedrock starts a server that speaks the Amazon Bedrock Converse API
// (POST {URL}/model/{modelId}/converse, SigV4-signed) and answers from script;
// it is closed when t ends. Point a bedrockruntime client at it with
// BaseEndpoint = s.URL, static credentials and any real region.
func NewBedrock(t testing.TB, script ...Step) *Server {
	t.Helper()
	return startT(t, bedrockFlavor{}, script)
}

// StartBedrock is NewBedrock outside a test (the local dev stack): the caller closes the server.
func StartBedrock(script ...Step) *Server { return start(bedrockFlavor{}, script) }

type bedrockFlavor struct{}

func (bedrockFlavor) read(r *http.Request, body []byte, req *Request) *wireError {
	p := r.URL.EscapedPath()
	rest, ok1 := strings.CutPrefix(p, "/model/")
	id, ok2 := strings.CutSuffix(rest, "/converse")
	model, err := url.PathUnescape(id)
	if r.Method != http.MethodPost || !ok1 || !ok2 || err != nil || model == "" {
		return &wireError{http.StatusNotFound, "UnknownOperationException", ""}
	}
	req.Model = model
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		return &wireError{http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token"}
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return &wireError{http.StatusBadRequest, "SerializationException", "Could not parse the request body."}
	}
	msgs, _ := m["messages"].([]any)
	if len(msgs) == 0 {
		return &wireError{http.StatusBadRequest, "ValidationException", "A conversation must start with a user message."}
	}
	blocksText := func(v any) string {
		var b strings.Builder
		blocks, _ := v.([]any)
		for _, raw := range blocks {
			block, _ := raw.(map[string]any)
			if t, ok := block["text"].(string); ok {
				b.WriteString(t)
			}
		}
		return b.String()
	}
	req.System = blocksText(m["system"])
	var user strings.Builder
	for _, raw := range msgs {
		msg, _ := raw.(map[string]any)
		if msg["role"] == "user" {
			user.WriteString(blocksText(msg["content"]))
		}
	}
	req.User = user.String()
	if ic, ok := m["inferenceConfig"].(map[string]any); ok {
		if t, ok := number(ic, "temperature"); ok {
			req.Temperature = &t
		}
		if n, ok := number(ic, "maxTokens"); ok {
			req.MaxTokens = int64(n)
		}
	}
	if tc, ok := m["toolConfig"].(map[string]any); ok {
		choice, _ := tc["toolChoice"].(map[string]any)
		forced, _ := choice["tool"].(map[string]any)
		req.Tool, _ = forced["name"].(string)
		tools, _ := tc["tools"].([]any)
		for _, raw := range tools {
			tool, _ := raw.(map[string]any)
			spec, _ := tool["toolSpec"].(map[string]any)
			if spec["name"] == req.Tool {
				schema, _ := spec["inputSchema"].(map[string]any)
				req.Schema, _ = schema["json"].(map[string]any)
			}
		}
		if req.Tool != "" && req.Schema == nil {
			return &wireError{http.StatusBadRequest, "ValidationException", "The tool named in toolChoice is not in tools."}
		}
	}
	req.Format = formatOf(req.Schema)
	return nil
}

func (bedrockFlavor) writeError(w http.ResponseWriter, _ int, status int, typ, _ string, msg string) {
	if typ == "" {
		switch status {
		case http.StatusUnauthorized:
			typ = "UnrecognizedClientException"
		case http.StatusForbidden:
			typ = "AccessDeniedException"
		case http.StatusNotFound:
			typ = "ResourceNotFoundException"
		case http.StatusRequestTimeout:
			typ = "ModelTimeoutException"
		case http.StatusFailedDependency:
			typ = "ModelErrorException"
		case http.StatusTooManyRequests:
			typ = "ThrottlingException"
		case http.StatusServiceUnavailable:
			typ = "ServiceUnavailableException"
		default:
			typ = "InternalServerException"
			if status < 500 {
				typ = "ValidationException"
			}
		}
	}
	if msg == "" {
		msg = statusMessage(status)
	}
	w.Header().Set("X-Amzn-ErrorType", typ)
	writeJSON(w, status, map[string]any{"__type": typ, "message": msg})
}

func (bedrockFlavor) writeReply(w http.ResponseWriter, rep reply) {
	stop := "end_turn"
	var content []any
	switch {
	case rep.refusal != "":
		stop = "content_filtered"
		content = []any{map[string]any{"text": rep.refusal}}
	case rep.req.Tool != "" && rep.object:
		stop = "tool_use"
		content = []any{map[string]any{"toolUse": map[string]any{
			"toolUseId": "tooluse_judgetest_" + strconv.Itoa(rep.n),
			"name":      rep.req.Tool,
			"input":     json.RawMessage(strings.TrimSpace(rep.text)),
		}}}
	default:
		content = []any{map[string]any{"text": rep.text}}
	}
	if rep.finish != "" {
		stop = rep.finish
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"output":     map[string]any{"message": map[string]any{"role": "assistant", "content": content}},
		"stopReason": stop,
		"usage": map[string]any{
			"inputTokens":  rep.usage.InputTokens,
			"outputTokens": rep.usage.OutputTokens,
			"totalTokens":  rep.usage.InputTokens + rep.usage.OutputTokens,
		},
		"metrics": map[string]any{"latencyMs": 1},
	})
}
