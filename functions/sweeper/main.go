// Command sweeper is the scheduled Lambda that ends tasks whose lease
// expired, so that a crashed worker never leaves a conversation locked.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/plume-evals/plume/internal/app"
	"github.com/plume-evals/plume/internal/worker"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	cfg, awsCfg := app.MustLoad(log)
	h, err := worker.Setup(cfg, awsCfg, worker.Providers(cfg, awsCfg), log)
	if err != nil {
		log.Error("bad configuration", "err", err)
		os.Exit(1)
	}
	lambda.Start(func(ctx context.Context, _ events.EventBridgeEvent) (map[string]int, error) {
		n, err := h.Worker.Sweep(ctx)
		log.InfoContext(ctx, "sweep", "released", n, "err", err)
		return map[string]int{"released": n}, err
	})
}
