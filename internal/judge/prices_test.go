package judge

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDefaultPrices(t *testing.T) {
	t.Parallel()
	p := DefaultPrices()
	for _, model := range []string{"gpt-4o-mini", "claude-sonnet-5-5", "anthropic.claude-haiku-4-5-20251001-v1:0"} {
		if _, ok := p[model]; !ok {
			t.Errorf("DefaultPrices() has no %q", model)
		}
	}
	for model, pr := range p {
		if pr.InputPerMTok <= 0 || pr.OutputPerMTok <= 0 || pr.OutputPerMTok < pr.InputPerMTok {
			t.Errorf("DefaultPrices()[%q] = %+v: want positive prices, output >= input", model, pr)
		}
	}
	p["gpt-4o-mini"] = Price{}
	if DefaultPrices()["gpt-4o-mini"] == (Price{}) {
		t.Error("DefaultPrices() returns a shared map")
	}
}

func TestParsePrices(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    Prices
		wantErr string
	}{
		{"empty", "", Prices{}, ""},
		{"spaces", "  \n", Prices{}, ""},
		{"empty object", "{}", Prices{}, ""},
		{"one", `{"gpt-4o-mini": {"input_per_mtok": 0.15, "output_per_mtok": 0.6}}`,
			Prices{"gpt-4o-mini": {InputPerMTok: 0.15, OutputPerMTok: 0.6}}, ""},
		{"free model", `{"local-llama": {"input_per_mtok": 0, "output_per_mtok": 0}}`,
			Prices{"local-llama": {}}, ""},
		{"not json", `gpt-4o-mini=0.15`, nil, "want {"},
		{"array", `[]`, nil, "want {"},
		{"null", `null`, nil, "got null"},
		{"trailing", `{} {}`, nil, "text after"},
		{"trailing brace", `{}}`, nil, "text after"},
		{"missing output", `{"m": {"input_per_mtok": 1}}`, nil, `"m": missing output_per_mtok`},
		{"unknown field", `{"m": {"input_per_mtok": 1, "output_per_mtok": 2, "cached": 0.1}}`, nil, `unknown field "cached"`},
		{"string price", `{"m": {"input_per_mtok": "1", "output_per_mtok": 2}}`, nil, "input_per_mtok is not a number"},
		{"null price", `{"m": {"input_per_mtok": null, "output_per_mtok": 2}}`, nil, "input_per_mtok is null"},
		{"negative", `{"m": {"input_per_mtok": -1, "output_per_mtok": 2}}`, nil, "finite number >= 0"},
		{"entry null", `{"m": null}`, nil, "got null"},
		{"empty model", `{" ": {"input_per_mtok": 1, "output_per_mtok": 2}}`, nil, "empty model id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParsePrices(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParsePrices(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePrices(%q) error = %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParsePrices(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestPricesMerge(t *testing.T) {
	t.Parallel()
	base := Prices{"a": {1, 2}, "b": {3, 4}}
	over := Prices{"b": {5, 6}, "c": {7, 8}}
	got := base.Merge(over)
	want := Prices{"a": {1, 2}, "b": {5, 6}, "c": {7, 8}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Merge mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Prices{"a": {1, 2}, "b": {3, 4}}, base); diff != "" {
		t.Errorf("Merge changed its receiver (-want +got):\n%s", diff)
	}
	if got := Prices(nil).Merge(nil); got == nil || len(got) != 0 {
		t.Errorf("nil.Merge(nil) = %#v, want an empty table", got)
	}
}

func TestPricesCost(t *testing.T) {
	t.Parallel()
	p := Prices{
		"gpt-4o-mini":      {InputPerMTok: 0.15, OutputPerMTok: 0.60},
		"claude-haiku-4-5": {InputPerMTok: 1, OutputPerMTok: 5},
		"anthropic.claude-haiku-4-5-20251001-v1:0": {InputPerMTok: 1, OutputPerMTok: 5},
		"amazon.nova-lite-v1:0":                    {InputPerMTok: 0.06, OutputPerMTok: 0.24},
	}
	tests := []struct {
		model     string
		in, out   int64
		wantUSD   float64
		wantKnown bool
	}{
		{"gpt-4o-mini", 1_000_000, 1_000_000, 0.75, true},
		{"gpt-4o-mini", 1200, 80, (1200*0.15 + 80*0.60) / 1e6, true},
		{"gpt-4o-mini-2024-07-18", 1_000_000, 0, 0.15, true},
		{"GPT-4o-mini", 1_000_000, 0, 0.15, true},
		{"claude-haiku-4-5-20251001", 0, 1_000_000, 5, true},
		{"us.anthropic.claude-haiku-4-5-20251001-v1:0", 1_000_000, 0, 1, true},
		{"global.anthropic.claude-haiku-4-5-20251001-v1:0", 0, 2_000_000, 10, true},
		{"eu.amazon.nova-lite-v1:0", 1_000_000, 1_000_000, 0.30, true},
		{"gpt-4o-mini", -5, -5, 0, true},
		{"gpt-4o", 1, 1, 0, false},
		{"unknown-20251001", 1, 1, 0, false},
		{"", 1, 1, 0, false},
	}
	for _, tt := range tests {
		usd, known := p.Cost(tt.model, tt.in, tt.out)
		if known != tt.wantKnown || math.Abs(usd-tt.wantUSD) > 1e-12 {
			t.Errorf("Cost(%q, %d, %d) = %v, %v; want %v, %v", tt.model, tt.in, tt.out, usd, known, tt.wantUSD, tt.wantKnown)
		}
	}
}

func TestCutDate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"gpt-4o-mini-2024-07-18", "gpt-4o-mini", true},
		{"claude-haiku-4-5-20251001", "claude-haiku-4-5", true},
		{"gpt-4o-mini", "", false},
		{"model-2024-7-18", "", false},
		{"x-abcdefgh", "", false},
		{"-20251001", "", false},
	}
	for _, tt := range tests {
		got, ok := cutDate(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("cutDate(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
