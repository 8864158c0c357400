// Package app holds Plume's configuration and wires the HTTP API from it.
// The worker's wiring (worker.Setup) builds on the same Config. The API
// binary links no judge provider SDK: this package must not import
// internal/judge or internal/worker.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/uuid"

	"github.com/plume-evals/plume"
	"github.com/plume-evals/plume/internal/api"
	"github.com/plume-evals/plume/internal/eval"
	"github.com/plume-evals/plume/internal/queue"
	"github.com/plume-evals/plume/internal/scorer"
	"github.com/plume-evals/plume/internal/store"
)

// Config is every setting of Plume (docs/architecture.md lists them).
type Config struct {
	Table             string
	QueueURL          string
	DLQARN            string
	Lease             time.Duration
	WorkerConcurrency int
	MaxAttempts       int
	JudgeModel        string
	// PricesJSON overrides judge prices (PLUME_JUDGE_PRICES); the worker
	// parses it.
	PricesJSON       string
	OpenAIKey        string
	OpenAIBaseURL    string
	AnthropicKey     string
	AnthropicBaseURL string
	// Metrics turns on CloudWatch EMF lines on stdout (on in Lambda, where
	// AWS_LAMBDA_FUNCTION_NAME is set).
	Metrics bool
}

// Load reads the configuration; a missing or malformed setting is an error
// that fails the cold start, never an invocation.
func Load(getenv func(string) string) (Config, error) {
	c := Config{
		Table: getenv("PLUME_TABLE"), QueueURL: getenv("PLUME_QUEUE_URL"), DLQARN: getenv("PLUME_DLQ_ARN"),
		Lease: 15 * time.Minute, WorkerConcurrency: 4, MaxAttempts: 5, JudgeModel: "gpt-4o-mini",
		OpenAIKey: getenv("OPENAI_API_KEY"), OpenAIBaseURL: getenv("OPENAI_BASE_URL"),
		AnthropicKey: getenv("ANTHROPIC_API_KEY"), AnthropicBaseURL: getenv("ANTHROPIC_BASE_URL"),
		PricesJSON: getenv("PLUME_JUDGE_PRICES"),
		Metrics:    getenv("AWS_LAMBDA_FUNCTION_NAME") != "",
	}
	var errs []error
	if c.Table == "" {
		errs = append(errs, errors.New("PLUME_TABLE is not set"))
	}
	if v := getenv("PLUME_LEASE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute {
			errs = append(errs, fmt.Errorf("PLUME_LEASE=%q: want a Go duration of at least 1m", v))
		}
		c.Lease = d
	}
	for name, dst := range map[string]*int{"PLUME_WORKER_CONCURRENCY": &c.WorkerConcurrency, "PLUME_MAX_ATTEMPTS": &c.MaxAttempts} {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 100 {
				errs = append(errs, fmt.Errorf("%s=%q: want 1..100", name, v))
			}
			*dst = n
		}
	}
	if v := getenv("PLUME_JUDGE_MODEL"); v != "" {
		c.JudgeModel = v
	}
	return c, errors.Join(errs...)
}

// AWS loads the SDK configuration: credentials, region and, for local
// runs, AWS_ENDPOINT_URL.
func AWS(ctx context.Context) (aws.Config, error) {
	return config.LoadDefaultConfig(ctx)
}

// Store returns the DynamoDB store.
func Store(c Config, awsCfg aws.Config) *store.Store {
	return store.New(dynamodb.NewFromConfig(awsCfg), c.Table)
}

// API returns the HTTP API.
func API(c Config, awsCfg aws.Config, log *slog.Logger) (*api.API, error) {
	if c.QueueURL == "" {
		return nil, errors.New("PLUME_QUEUE_URL is not set")
	}
	st := Store(c, awsCfg)
	svc := &eval.Service{
		Guards: st, Queue: queue.NewSender(sqs.NewFromConfig(awsCfg), c.QueueURL), Lease: c.Lease,
		Now: time.Now, NewID: uuid.NewString, Log: log,
	}
	return &api.API{
		Store: st, Tasks: svc, Check: scorer.Check, OpenAPI: plume.OpenAPI, Now: time.Now, NewID: uuid.NewString,
		Log: log, KeyTTL: time.Minute,
	}, nil
}

// MustLoad reads the configuration and the SDK configuration for a Lambda's
// cold start: a bad setting is logged and ends the process there, never in
// an invocation.
func MustLoad(log *slog.Logger) (Config, aws.Config) {
	cfg, err := Load(os.Getenv)
	if err != nil {
		log.Error("bad configuration", "err", err)
		os.Exit(1)
	}
	awsCfg, err := AWS(context.Background())
	if err != nil {
		log.Error("aws configuration", "err", err)
		os.Exit(1)
	}
	return cfg, awsCfg
}
