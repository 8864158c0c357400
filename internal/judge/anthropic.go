package judge

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
)

// Anthropic judges with the Claude Messages API, asking for the answer with
// structured outputs (output_config.format of type json_schema).
type Anthropic struct {
	svc     anthropic.MessageService
	key     string
	confErr *Error
	now     func() time.Time
}

var _ Provider = (*Anthropic)(nil)

// NewAnthropic returns the Anthropic provider. baseURL "" is the official API;
// hc nil means a plain http.Client. No environment variable or profile file is
// read here: the caller passes ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL. A
// configuration problem (no key, an unusable base URL) is reported by every
// call to Judge, as Kind Misconfigured.
func NewAnthropic(apiKey, baseURL string, hc *http.Client) *Anthropic {
	p := &Anthropic{key: apiKey, now: time.Now}
	if apiKey == "" {
		p.confErr = &Error{Kind: Misconfigured, Provider: NameAnthropic, Msg: "no API key (set ANTHROPIC_API_KEY)"}
		return p
	}
	if hc == nil {
		hc = &http.Client{}
	}
	opts := []option.RequestOption{
		option.WithoutEnvironmentDefaults(),
		option.WithHTTPClient(hc),
		option.WithMaxRetries(0), // one attempt: the worker owns retries
		option.WithAPIKey(apiKey),
	}
	if baseURL != "" {
		u, err := url.Parse(baseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.confErr = &Error{Kind: Misconfigured, Provider: NameAnthropic, Msg: "the base URL is not an absolute http(s) URL"}
			return p
		}
		opts = append(opts, option.WithBaseURL(baseURL))
	}
	p.svc = anthropic.NewClient(opts...).Messages
	return p
}

// Judge asks the model once. See Provider.
func (p *Anthropic) Judge(ctx context.Context, req Request) (Verdict, error) {
	if p == nil {
		return Verdict{}, &Error{Kind: Misconfigured, Provider: NameAnthropic, Msg: "provider is not configured"}
	}
	if p.confErr != nil {
		return Verdict{}, p.confErr
	}
	if err := req.validate(NameAnthropic); err != nil {
		return Verdict{}, err
	}
	maxTokens := req.maxTokens()
	// The SDK refuses a non-streaming call whose max_tokens could outlast ten
	// minutes; say so as a BadRequest rather than as an unexplained failure.
	if _, err := anthropic.CalculateNonStreamingTimeout(maxTokens, anthropic.Model(req.Model), nil); err != nil {
		return Verdict{}, &Error{Kind: BadRequest, Provider: NameAnthropic, Msg: "max_tokens is too large for a non-streaming call", Err: err}
	}
	system, user, err := prompts(req)
	if err != nil {
		return Verdict{}, &Error{Kind: BadRequest, Provider: NameAnthropic, Msg: "cannot encode the transcript", Err: err}
	}

	// No temperature: API version 2026-10-21, which this SDK speaks, rejects
	// every sampling parameter with a 400, even at its default value.
	params := anthropic.MessageNewParams{
		Model:     anthropic.Model(req.Model),
		MaxTokens: int64(maxTokens),
		System:    []anthropic.TextBlockParam{{Text: system}},
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(user))},
		OutputConfig: anthropic.OutputConfigParam{
			Format: anthropic.JSONOutputFormatParam{Schema: answerSchema(req.Format, false)},
		},
	}

	res, err := p.svc.New(ctx, params)
	if err != nil {
		return Verdict{}, p.classify(err)
	}

	u := res.Usage
	v := Verdict{
		InputTokens:  u.InputTokens + u.CacheCreationInputTokens + u.CacheReadInputTokens,
		OutputTokens: u.OutputTokens,
		Model:        string(res.Model),
	}
	if v.Model == "" {
		v.Model = req.Model
	}
	switch res.StopReason {
	case anthropic.StopReasonRefusal:
		return v, malformed(NameAnthropic, "the model refused to answer")
	case anthropic.StopReasonMaxTokens:
		return v, malformed(NameAnthropic, "the answer was cut at max_tokens (%d)", maxTokens)
	case anthropic.StopReasonModelContextWindowExceeded:
		return v, malformed(NameAnthropic, "the answer was cut at the model's context window")
	}
	var text strings.Builder
	for _, block := range res.Content {
		if block.Type == "text" {
			text.WriteString(block.Text)
		}
	}
	return verdictFrom(NameAnthropic, text.String(), req.Format, v)
}

// classify turns an SDK error into a *Error.
func (p *Anthropic) classify(err error) error {
	var ae *anthropic.Error
	if errors.As(err, &ae) {
		var h http.Header
		if ae.Response != nil {
			h = ae.Response.Header
		}
		msg := ae.Message
		if msg == "" {
			msg = string(ae.Type())
		}
		return apiError(NameAnthropic, ae.StatusCode, h, msg, p.key, p.now(), err)
	}
	if e := transportError(NameAnthropic, err, p.key); e != nil {
		return e
	}
	return unreadable(NameAnthropic, err, p.key)
}
