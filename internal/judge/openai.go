package judge

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
)

// OpenAI judges with the Chat Completions API of OpenAI or of any
// OpenAI-compatible server, asking for the answer with a strict json_schema
// response_format.
type OpenAI struct {
	svc     openai.ChatCompletionService
	key     string
	confErr *Error
	now     func() time.Time
}

var _ Provider = (*OpenAI)(nil)

// NewOpenAI returns the OpenAI provider. baseURL "" is the official API
// (https://api.openai.com/v1); any other value is the base of an
// OpenAI-compatible server, for which apiKey may be empty. hc nil means a plain
// http.Client; a Timeout on hc surfaces as Kind Timeout. No environment
// variable is read here: the caller passes OPENAI_API_KEY and OPENAI_BASE_URL.
// A configuration problem (no key for the official API, an unusable base URL)
// is reported by every call to Judge, as Kind Misconfigured.
func NewOpenAI(apiKey, baseURL string, hc *http.Client) *OpenAI {
	p := &OpenAI{key: apiKey, now: time.Now}
	if hc == nil {
		hc = &http.Client{}
	}
	opts := []option.RequestOption{
		option.WithEnvironmentProduction(),
		option.WithHTTPClient(hc),
		option.WithMaxRetries(0), // one attempt: the worker owns retries
	}
	if baseURL != "" {
		u, err := url.Parse(baseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.confErr = &Error{Kind: Misconfigured, Provider: NameOpenAI, Msg: "the base URL is not an absolute http(s) URL"}
			return p
		}
		opts = append(opts, option.WithBaseURL(baseURL))
	} else if apiKey == "" {
		p.confErr = &Error{Kind: Misconfigured, Provider: NameOpenAI, Msg: "no API key (set OPENAI_API_KEY)"}
		return p
	}
	if apiKey != "" {
		opts = append(opts, option.WithAPIKey(apiKey))
	}
	p.svc = openai.NewChatCompletionService(opts...)
	return p
}

// Judge asks the model once. See Provider.
func (p *OpenAI) Judge(ctx context.Context, req Request) (Verdict, error) {
	if p == nil {
		return Verdict{}, &Error{Kind: Misconfigured, Provider: NameOpenAI, Msg: "provider is not configured"}
	}
	if p.confErr != nil {
		return Verdict{}, p.confErr
	}
	if err := req.validate(NameOpenAI); err != nil {
		return Verdict{}, err
	}
	system, user, err := prompts(req)
	if err != nil {
		return Verdict{}, &Error{Kind: BadRequest, Provider: NameOpenAI, Msg: "cannot encode the transcript", Err: err}
	}

	params := openai.ChatCompletionNewParams{
		Model: shared.ChatModel(req.Model),
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage(system),
			openai.UserMessage(user),
		},
		MaxCompletionTokens: openai.Int(int64(req.maxTokens())),
		ResponseFormat: openai.ChatCompletionNewParamsResponseFormatUnion{
			OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
				JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{
					Name:        schemaName(req.Format),
					Description: openai.String("The judge's verdict on the conversation."),
					Strict:      openai.Bool(true),
					Schema:      answerSchema(req.Format, true),
				},
			},
		},
	}
	if openAISamples(req.Model) {
		params.Temperature = openai.Float(req.Temperature)
	}

	res, err := p.svc.New(ctx, params)
	if err != nil {
		return Verdict{}, p.classify(err)
	}

	v := Verdict{
		InputTokens:  res.Usage.PromptTokens,
		OutputTokens: res.Usage.CompletionTokens,
		Model:        res.Model,
	}
	if v.Model == "" {
		v.Model = req.Model
	}
	if len(res.Choices) == 0 {
		return v, malformed(NameOpenAI, "the response has no choices")
	}
	choice := res.Choices[0]
	if r := strings.TrimSpace(choice.Message.Refusal); r != "" {
		return v, malformed(NameOpenAI, "the model refused: %s", redact(r, p.key))
	}
	switch choice.FinishReason {
	case "length":
		return v, malformed(NameOpenAI, "the answer was cut at max_tokens (%d)", req.maxTokens())
	case "content_filter":
		return v, malformed(NameOpenAI, "the answer was withheld by the content filter")
	}
	return verdictFrom(NameOpenAI, choice.Message.Content, req.Format, v)
}

// classify turns an SDK error into a *Error.
func (p *OpenAI) classify(err error) error {
	var ae *openai.Error
	if errors.As(err, &ae) {
		var h http.Header
		if ae.Response != nil {
			h = ae.Response.Header
		}
		msg := ae.Message
		if msg == "" {
			msg = strings.TrimSpace(ae.Code + " " + ae.Type)
		}
		e := apiError(NameOpenAI, ae.StatusCode, h, msg, p.key, p.now(), err)
		switch ae.Code {
		case "insufficient_quota", "billing_hard_limit_reached":
			e.Kind = Unauthorized // the account cannot be used until someone pays: waiting will not help
		case "model_not_found":
			e.Kind = NotFound
		}
		return e
	}
	if e := transportError(NameOpenAI, err, p.key); e != nil {
		return e
	}
	return unreadable(NameOpenAI, err, p.key)
}

// openAISamples reports whether model accepts a sampling temperature. OpenAI's
// reasoning models (the o-series, gpt-5 and later) reject any temperature other
// than the default, so none is sent to them; every other model id, including
// those of OpenAI-compatible servers, gets one. A vendor prefix ("openai/") is
// ignored.
func openAISamples(model string) bool {
	m := strings.ToLower(strings.TrimSpace(model))
	if i := strings.LastIndexByte(m, '/'); i >= 0 {
		m = m[i+1:]
	}
	if len(m) >= 2 && m[0] == 'o' && m[1] >= '1' && m[1] <= '9' {
		return false
	}
	if rest, ok := strings.CutPrefix(m, "gpt-"); ok {
		end := 0
		for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
			end++
		}
		if n, err := strconv.Atoi(rest[:end]); err == nil && n >= 5 {
			return false
		}
	}
	return true
}

// verdictFrom parses text into v. On a parse failure v keeps its usage and model.
func verdictFrom(provider, text string, f Format, v Verdict) (Verdict, error) {
	score, passed, why, err := Parse(text, f)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.Provider = provider
		}
		return v, err
	}
	v.Score, v.Passed, v.Rationale = score, passed, why
	return v, nil
}
