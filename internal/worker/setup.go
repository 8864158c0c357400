package worker

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/plume-evals/plume/internal/app"
	"github.com/plume-evals/plume/internal/judge"
	"github.com/plume-evals/plume/internal/queue"
)

// Providers returns the judge providers that are configured: openai when a key
// or a base URL is set (an OpenAI-compatible server may need no key),
// anthropic when a key is set, bedrock always (AWS credentials).
func Providers(c app.Config, awsCfg aws.Config) judge.Set {
	hc := &http.Client{Transport: http.DefaultTransport}
	var s judge.Set
	if c.OpenAIKey != "" || c.OpenAIBaseURL != "" {
		s.OpenAI = judge.NewOpenAI(c.OpenAIKey, c.OpenAIBaseURL, hc)
	}
	if c.AnthropicKey != "" {
		s.Anthropic = judge.NewAnthropic(c.AnthropicKey, c.AnthropicBaseURL, hc)
	}
	s.Bedrock = judge.NewBedrock(bedrockruntime.NewFromConfig(awsCfg))
	return s
}

// Setup builds the SQS handler (and its worker) from the configuration.
func Setup(c app.Config, awsCfg aws.Config, judges Judges, log *slog.Logger) (*Handler, error) {
	prices := judge.DefaultPrices()
	if c.PricesJSON != "" {
		p, err := judge.ParsePrices(c.PricesJSON)
		if err != nil {
			return nil, fmt.Errorf("PLUME_JUDGE_PRICES: %w", err)
		}
		prices = prices.Merge(p)
	}
	w := New(app.Store(c, awsCfg), judges, prices, log)
	w.DefaultModel, w.Concurrency, w.MaxAttempts, w.Lease = c.JudgeModel, c.WorkerConcurrency, c.MaxAttempts, c.Lease
	if c.Metrics {
		w.EmitMetrics(os.Stdout)
	}
	h := &Handler{Worker: w, DLQARN: c.DLQARN}
	if c.QueueURL != "" {
		client := sqs.NewFromConfig(awsCfg)
		h.Visibility = queue.Visibility{API: client, URL: c.QueueURL}
		h.Continue = queue.NewSender(client, c.QueueURL)
	}
	return h, nil
}
