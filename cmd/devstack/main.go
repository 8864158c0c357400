// Command devstack is `make dev`: the whole of Plume on this machine with no
// AWS account. It starts moto on loopback (unless AWS_ENDPOINT_URL points at
// an emulator), creates the table and queues from template.yaml, seeds the
// dev organization, serves the API on PLUME_HTTP_ADDR and runs the worker
// and the sweeper on the queues, through the same handlers the Lambdas use.
// Ctrl-C stops everything it started.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/plume-evals/plume"
	"github.com/plume-evals/plume/internal/app"
	"github.com/plume-evals/plume/internal/devstack"
	"github.com/plume-evals/plume/internal/worker"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log); err != nil {
		log.Error("devstack failed", "err", err)
		os.Exit(1)
	}
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, log *slog.Logger) error {
	addr, key := env("PLUME_HTTP_ADDR", "127.0.0.1:8000"), env("PLUME_DEV_API_KEY", "plume-dev-key")
	endpoint := os.Getenv("AWS_ENDPOINT_URL")
	awsCfg := devstack.Config(endpoint)
	if endpoint == "" {
		m, err := devstack.StartMoto(env("PLUME_MOTO_ADDR", "127.0.0.1:5055"))
		if err != nil {
			return err
		}
		defer m.Stop()
		endpoint, awsCfg = m.URL, devstack.Config(m.URL)
		log.Info("moto started", "endpoint", endpoint)
	}
	sq := sqs.NewFromConfig(awsCfg)
	res, err := devstack.CreateResources(ctx, dynamodb.NewFromConfig(awsCfg), sq, plume.Template, "plume-dev")
	if err != nil {
		return err
	}
	queueARN, err := devstack.QueueARN(ctx, sq, res.QueueURL)
	if err != nil {
		return err
	}
	cfg, err := app.Load(func(name string) string {
		switch name {
		case "PLUME_TABLE":
			return res.Table
		case "PLUME_QUEUE_URL":
			return res.QueueURL
		case "PLUME_DLQ_ARN":
			return res.DLQARN
		}
		return os.Getenv(name)
	})
	if err != nil {
		return err
	}
	if err := devstack.Seed(ctx, app.Store(cfg, awsCfg), key, time.Now().UTC()); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if err := writeEnv(endpoint, res); err != nil {
		return err
	}
	api, err := app.API(cfg, awsCfg, log)
	if err != nil {
		return err
	}
	h, err := worker.Setup(cfg, awsCfg, worker.Providers(cfg, awsCfg), log)
	if err != nil {
		return err
	}
	srv := &http.Server{Addr: addr, Handler: api.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	for _, q := range []struct{ url, arn string }{{res.QueueURL, queueARN}, {res.DLQURL, res.DLQARN}} {
		p := &devstack.Poller{SQS: sq, QueueURL: q.url, QueueARN: q.arn, Handle: h.Handle, Timeout: 120 * time.Second, Idle: 300 * time.Millisecond, Log: log}
		go p.Run(ctx)
	}
	go sweep(ctx, h.Worker, log)

	fmt.Printf(`
Plume dev stack
  API           http://%s  (OpenAPI: http://%s/openapi.json)
  API key       %s   (organization %s)
  emulator      %s   table %s
  demo          conversation %s of agent %s
  try           curl -s -XPOST -H 'x-api-key: %s' http://%s/v1/v2/conversations/%s/reevaluate
Ctrl-C stops everything.
`, addr, addr, key, devstack.DevOrg, endpoint, res.Table, devstack.DemoConv, devstack.DemoAgent, key, addr, devstack.DemoConv)

	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	log.Info("stopping")
	return srv.Shutdown(shut)
}

func sweep(ctx context.Context, w *worker.Worker, log *slog.Logger) {
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := w.Sweep(ctx); n > 0 || err != nil {
				log.Info("sweep", "released", n, "err", err)
			}
		}
	}
}

// writeEnv records the stack's settings for `make invoke`.
func writeEnv(endpoint string, res devstack.Resources) error {
	if err := os.MkdirAll(".cache", 0o755); err != nil {
		return err
	}
	body := fmt.Sprintf("export AWS_ENDPOINT_URL=%s\nexport AWS_REGION=us-east-1\nexport AWS_ACCESS_KEY_ID=test\nexport AWS_SECRET_ACCESS_KEY=test\nexport PLUME_TABLE=%s\nexport PLUME_QUEUE_URL=%s\nexport PLUME_DLQ_ARN=%s\n",
		endpoint, res.Table, res.QueueURL, res.DLQARN)
	return os.WriteFile(filepath.Join(".cache", "dev.env"), []byte(body), 0o644)
}
