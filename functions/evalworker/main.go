// Command evalworker is the SQS Lambda of the eval queue and its dead-letter
// queue. It only wires; internal/worker is the program.
package main

import (
	"log/slog"
	"os"

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
	lambda.Start(h.Handle)
}
