package judge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
)

// Price is a model's list price in US dollars per million tokens.
type Price struct {
	InputPerMTok  float64 `json:"input_per_mtok"`
	OutputPerMTok float64 `json:"output_per_mtok"`
}

// Prices maps a model id to its price.
type Prices map[string]Price

// PricesAsOf is the day DefaultPrices was last checked against the providers'
// published model and pricing pages.
const PricesAsOf = "2026-12-04"

// DefaultPrices returns a fresh table of list prices (standard tier, short
// prompts, no caching or batch discounts) for a handful of current judge
// models, as published on PricesAsOf. Prices change: a deployment overrides or
// extends them with PLUME_JUDGE_PRICES (see ParsePrices and Merge).
//
// Notes: claude-haiku-5-5 is priced at its rate for prompts up to 100K tokens
// (longer prompts cost 5×); Bedrock prices are on-demand, and a regional
// endpoint can cost more than the global one.
func DefaultPrices() Prices {
	return Prices{
		// OpenAI
		"gpt-4o-mini":   {InputPerMTok: 0.15, OutputPerMTok: 0.60}, // PLUME_JUDGE_MODEL's default
		"gpt-6-luna":    {InputPerMTok: 0.10, OutputPerMTok: 0.50},
		"gpt-6.1-terra": {InputPerMTok: 1.00, OutputPerMTok: 5.00},
		"gpt-6.2-sol":   {InputPerMTok: 2.00, OutputPerMTok: 10.00},
		"gpt-6.2-astra": {InputPerMTok: 8.00, OutputPerMTok: 40.00},
		// Anthropic
		"claude-haiku-5-5":  {InputPerMTok: 0.10, OutputPerMTok: 0.50},
		"claude-sonnet-5-5": {InputPerMTok: 2.00, OutputPerMTok: 10.00},
		"claude-opus-5-5":   {InputPerMTok: 4.00, OutputPerMTok: 20.00},
		"claude-haiku-4-5":  {InputPerMTok: 1.00, OutputPerMTok: 5.00},
		// Amazon Bedrock (Converse)
		"anthropic.claude-haiku-4-5-20251001-v1:0": {InputPerMTok: 1.00, OutputPerMTok: 5.00},
		"anthropic.claude-sonnet-4-6":              {InputPerMTok: 3.00, OutputPerMTok: 15.00},
		"amazon.nova-micro-v1:0":                   {InputPerMTok: 0.035, OutputPerMTok: 0.14},
		"amazon.nova-lite-v1:0":                    {InputPerMTok: 0.06, OutputPerMTok: 0.24},
	}
}

// ParsePrices reads a price table such as the value of PLUME_JUDGE_PRICES:
// {"model": {"input_per_mtok": 0.15, "output_per_mtok": 0.6}, ...}. Both fields
// are required, finite and not negative; unknown fields are refused. An empty
// or all-space text is an empty table.
func ParsePrices(jsonText string) (Prices, error) {
	if strings.TrimSpace(jsonText) == "" {
		return Prices{}, nil
	}
	var raw map[string]map[string]json.RawMessage
	dec := json.NewDecoder(strings.NewReader(jsonText))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("judge prices: want {\"model\": {\"input_per_mtok\": n, \"output_per_mtok\": n}}: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("judge prices: text after the JSON object")
	}
	if raw == nil {
		return nil, fmt.Errorf("judge prices: want a JSON object, got null")
	}
	out := make(Prices, len(raw))
	for model, fields := range raw {
		if strings.TrimSpace(model) == "" {
			return nil, fmt.Errorf("judge prices: empty model id")
		}
		if fields == nil {
			return nil, fmt.Errorf("judge prices: %q: want an object, got null", model)
		}
		var p Price
		for name, v := range fields {
			var dst *float64
			switch name {
			case "input_per_mtok":
				dst = &p.InputPerMTok
			case "output_per_mtok":
				dst = &p.OutputPerMTok
			default:
				return nil, fmt.Errorf("judge prices: %q: unknown field %q", model, name)
			}
			if len(bytes.TrimSpace(v)) == 0 || v[0] == 'n' {
				return nil, fmt.Errorf("judge prices: %q: %s is null", model, name)
			}
			if err := json.Unmarshal(v, dst); err != nil {
				return nil, fmt.Errorf("judge prices: %q: %s is not a number", model, name)
			}
			if math.IsInf(*dst, 0) || math.IsNaN(*dst) || *dst < 0 {
				return nil, fmt.Errorf("judge prices: %q: %s must be a finite number >= 0", model, name)
			}
		}
		for _, name := range []string{"input_per_mtok", "output_per_mtok"} {
			if _, ok := fields[name]; !ok {
				return nil, fmt.Errorf("judge prices: %q: missing %s", model, name)
			}
		}
		out[model] = p
	}
	return out, nil
}

// Merge returns a new table holding p's entries overridden and extended by o's.
// Neither p nor o is changed.
func (p Prices) Merge(o Prices) Prices {
	out := make(Prices, len(p)+len(o))
	for k, v := range p {
		out[k] = v
	}
	for k, v := range o {
		out[k] = v
	}
	return out
}

// Cost returns the price in US dollars of in input and out output tokens on
// model, and whether model has a price. The lookup tries the id as given, then
// without a Bedrock geography prefix ("us.", "eu.", "apac.", "global.", ...),
// then without a date suffix ("-2024-07-18", "-20251001"), so the dated
// snapshot a provider reports finds its family's price. Negative counts count
// as 0.
func (p Prices) Cost(model string, in, out int64) (usd float64, known bool) {
	pr, ok := p.lookup(model)
	if !ok {
		return 0, false
	}
	in, out = max(in, 0), max(out, 0)
	return (float64(in)*pr.InputPerMTok + float64(out)*pr.OutputPerMTok) / 1e6, true
}

func (p Prices) lookup(model string) (Price, bool) {
	if pr, ok := p[model]; ok {
		return pr, true
	}
	m := strings.ToLower(strings.TrimSpace(model))
	if pr, ok := p[m]; ok {
		return pr, true
	}
	for _, geo := range []string{"global.", "us-gov.", "us.", "eu.", "apac.", "jp.", "au.", "ca."} {
		if rest, ok := strings.CutPrefix(m, geo); ok {
			m = rest
			if pr, ok := p[m]; ok {
				return pr, true
			}
			break
		}
	}
	if base, ok := cutDate(m); ok {
		if pr, ok := p[base]; ok {
			return pr, true
		}
	}
	return Price{}, false
}

// cutDate removes a trailing "-YYYY-MM-DD" or "-YYYYMMDD".
func cutDate(m string) (string, bool) {
	digits := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
		return s != ""
	}
	if n := len(m); n > 11 && m[n-11] == '-' && m[n-6] == '-' && m[n-3] == '-' &&
		digits(m[n-10:n-6]+m[n-5:n-3]+m[n-2:]) {
		return m[:n-11], true
	}
	if n := len(m); n > 9 && m[n-9] == '-' && digits(m[n-8:]) {
		return m[:n-9], true
	}
	return "", false
}
