package judge

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
)

// Format is the shape of answer a judge is asked for.
type Format string

const (
	// FormatScore asks for {"score": <number in [0,1]>, "rationale": "..."}.
	FormatScore Format = "score"
	// FormatBoolean asks for {"passed": <true|false>, "rationale": "..."}.
	FormatBoolean Format = "boolean"
)

// Valid reports whether f is one of the known formats.
func (f Format) Valid() bool { return f == FormatScore || f == FormatBoolean }

// DefaultMaxTokens is the output budget sent when Request.MaxTokens is 0.
const DefaultMaxTokens = 1024

// Turn is one message of the conversation under evaluation.
type Turn struct {
	Role      string
	Content   string
	CreatedAt time.Time
}

// Request is one judgement to make: an evaluator's instructions applied to one transcript.
type Request struct {
	// Model is the provider's model id (for Bedrock a model or inference-profile id).
	Model string
	// Instructions is the evaluator's prompt. It goes into the system message.
	Instructions string
	// Format selects the answer shape.
	Format Format
	// Transcript is the conversation. It is sent as data, never as instructions.
	Transcript []Turn
	// Temperature is the sampling temperature, 0 by default. It is sent only to
	// models that accept sampling parameters (see the package documentation).
	Temperature float64
	// MaxTokens bounds the judge's output; 0 means DefaultMaxTokens.
	MaxTokens int
}

// maxTokens returns the output budget to send.
func (r Request) maxTokens() int {
	if r.MaxTokens == 0 {
		return DefaultMaxTokens
	}
	return r.MaxTokens
}

// validate checks the parts of r that no provider can repair; the error is a
// *Error of Kind BadRequest.
func (r Request) validate(provider string) error {
	bad := func(format string, a ...any) error {
		return &Error{Kind: BadRequest, Provider: provider, Msg: fmt.Sprintf(format, a...)}
	}
	switch {
	case strings.TrimSpace(r.Model) == "":
		return bad("model is empty")
	case !r.Format.Valid():
		return bad("format %q is not %q or %q", r.Format, FormatScore, FormatBoolean)
	case strings.TrimSpace(r.Instructions) == "":
		return bad("instructions are empty")
	case r.MaxTokens < 0:
		return bad("max_tokens %d is negative", r.MaxTokens)
	case math.IsNaN(r.Temperature) || r.Temperature < 0 || r.Temperature > 2:
		return bad("temperature %v is outside [0, 2]", r.Temperature)
	}
	return nil
}

// Verdict is a judge's answer.
type Verdict struct {
	// Score is set for FormatScore, in [0,1].
	Score *float64
	// Passed is set for FormatBoolean.
	Passed *bool
	// Rationale is the judge's explanation, at most MaxRationale runes.
	Rationale string
	// InputTokens and OutputTokens are the provider's usage for the call.
	InputTokens  int64
	OutputTokens int64
	// Model is the model that answered, as the provider reports it (it can be a
	// dated snapshot of Request.Model).
	Model string
}

// Provider is one LLM judge backend.
type Provider interface {
	// Judge makes exactly one attempt (the SDKs' own retries are disabled: the
	// caller owns the single retry layer). Every error is a *Error; its Kind
	// says whether another attempt can help. On a Malformed error the returned
	// Verdict still carries the tokens and model of the failed attempt, so its
	// cost can be recorded.
	Judge(ctx context.Context, req Request) (Verdict, error)
}

// The provider names of an evaluator's config.provider, as Set.For accepts
// them and as Error.Provider reports them.
const (
	// NameOpenAI is OpenAI or any OpenAI-compatible server.
	NameOpenAI = "openai"
	// NameAnthropic is the Anthropic Claude API.
	NameAnthropic = "anthropic"
	// NameBedrock is Amazon Bedrock.
	NameBedrock = "bedrock"
)

// Set holds the configured providers; a nil field means "not configured".
type Set struct {
	OpenAI, Anthropic, Bedrock Provider
}

// For returns the provider named by an evaluator's config.provider ("openai",
// "anthropic" or "bedrock", case-insensitive). An unknown name or an
// unconfigured provider gives a *Error of Kind Misconfigured.
func (s Set) For(provider string) (Provider, error) {
	name := strings.ToLower(strings.TrimSpace(provider))
	var p Provider
	var hint string
	switch name {
	case NameOpenAI:
		p, hint = s.OpenAI, "set OPENAI_API_KEY"
	case NameAnthropic:
		p, hint = s.Anthropic, "set ANTHROPIC_API_KEY"
	case NameBedrock:
		p, hint = s.Bedrock, "give the worker AWS credentials and a region"
	case "":
		return nil, &Error{Kind: Misconfigured, Msg: "the evaluator names no judge provider (want openai, anthropic or bedrock)"}
	default:
		return nil, &Error{Kind: Misconfigured, Msg: fmt.Sprintf("unknown judge provider %q (want openai, anthropic or bedrock)", provider)}
	}
	if p == nil {
		return nil, &Error{Kind: Misconfigured, Provider: name, Msg: "provider is not configured in this deployment (" + hint + ")"}
	}
	return p, nil
}
