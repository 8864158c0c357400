package judge

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// stub is a Provider that answers a fixed verdict.
type stub struct{ Name string }

func (s stub) Judge(context.Context, Request) (Verdict, error) {
	return Verdict{Model: s.Name}, nil
}

func TestSetFor(t *testing.T) {
	t.Parallel()
	full := Set{OpenAI: stub{"o"}, Anthropic: stub{"a"}, Bedrock: stub{"b"}}
	tests := []struct {
		name     string
		set      Set
		provider string
		want     Provider
		wantErr  string // a substring of Error(); the kind is always Misconfigured
	}{
		{"openai", full, "openai", stub{"o"}, ""},
		{"anthropic", full, "anthropic", stub{"a"}, ""},
		{"bedrock", full, "bedrock", stub{"b"}, ""},
		{"case and space", full, " OpenAI ", stub{"o"}, ""},
		{"unknown", full, "gemini", nil, `judge: misconfigured: unknown judge provider "gemini" (want openai, anthropic or bedrock)`},
		{"empty", full, "", nil, "names no judge provider"},
		{"not configured", Set{}, "anthropic", nil, "anthropic: misconfigured: provider is not configured in this deployment (set ANTHROPIC_API_KEY)"},
		{"bedrock not configured", Set{OpenAI: stub{"o"}}, "bedrock", nil, "AWS credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.set.For(tt.provider)
			if tt.wantErr != "" {
				var e *Error
				if !errors.As(err, &e) || e.Kind != Misconfigured || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("For(%q) error = %v, want a misconfigured *Error containing %q", tt.provider, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("For(%q) error = %v", tt.provider, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("For(%q) mismatch (-want +got):\n%s", tt.provider, diff)
			}
		})
	}
}

func TestRequestValidate(t *testing.T) {
	t.Parallel()
	ok := Request{Model: "m", Instructions: "grade it", Format: FormatScore}
	tests := []struct {
		name    string
		mutate  func(*Request)
		wantErr string
	}{
		{"valid", func(*Request) {}, ""},
		{"valid boolean, temperature 2", func(r *Request) { r.Format, r.Temperature = FormatBoolean, 2 }, ""},
		{"no model", func(r *Request) { r.Model = " " }, "model is empty"},
		{"no format", func(r *Request) { r.Format = "" }, `format "" is not`},
		{"no instructions", func(r *Request) { r.Instructions = "\n" }, "instructions are empty"},
		{"negative max tokens", func(r *Request) { r.MaxTokens = -1 }, "max_tokens -1 is negative"},
		{"hot", func(r *Request) { r.Temperature = 2.5 }, "outside [0, 2]"},
		{"cold", func(r *Request) { r.Temperature = -0.1 }, "outside [0, 2]"},
	}
	for _, tt := range tests {
		r := ok
		tt.mutate(&r)
		err := r.validate("openai")
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("%s: validate() = %v, want nil", tt.name, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Kind != BadRequest || e.Provider != "openai" || !strings.Contains(e.Msg, tt.wantErr) {
			t.Errorf("%s: validate() = %#v, want a bad_request *Error containing %q", tt.name, err, tt.wantErr)
		}
	}
	if got := (Request{}).maxTokens(); got != DefaultMaxTokens {
		t.Errorf("maxTokens() of zero = %d, want %d", got, DefaultMaxTokens)
	}
}

func TestOpenAISamples(t *testing.T) {
	t.Parallel()
	tests := map[string]bool{
		"gpt-4o-mini":             true,
		"gpt-4.1":                 true,
		"gpt-3.5-turbo":           true,
		"llama3.1:8b":             true,
		"mistralai/Mistral-7B":    true,
		"omni-judge":              true,
		"o1":                      false,
		"o3-mini":                 false,
		"o4-mini-2025-04-16":      false,
		"gpt-5":                   false,
		"gpt-5.6-luna":            false,
		"gpt-6-luna":              false,
		"GPT-6.2-Sol":             false,
		"openai/gpt-6.1-terra":    false,
		"gpt-10-hypothetical":     false,
		"gpt-oss-120b":            true,
		"openrouter/openai/gpt-4": true,
	}
	for model, want := range tests {
		if got := openAISamples(model); got != want {
			t.Errorf("openAISamples(%q) = %v, want %v", model, got, want)
		}
	}
}
