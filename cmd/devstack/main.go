// Command devstack is `make dev`: the whole of Plume on this machine with no
// AWS account (internal/devstack.Start). Ctrl-C stops everything it started.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/plume-evals/plume/internal/devstack"
)

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	key := env("PLUME_DEV_API_KEY", "plume-dev-key")
	s, err := devstack.Start(ctx, devstack.Options{
		HTTPAddr: env("PLUME_HTTP_ADDR", "127.0.0.1:8000"), MotoAddr: env("PLUME_MOTO_ADDR", "127.0.0.1:5055"),
		Endpoint: os.Getenv("AWS_ENDPOINT_URL"), DevKey: key, EnvFile: ".cache/dev.env", Log: log,
	})
	if err != nil {
		log.Error("make dev failed", "err", err)
		os.Exit(1)
	}
	fmt.Printf(`
Plume dev stack
  API        %[1]s   (OpenAPI: %[1]s/openapi.json)
  API key    %[2]s   (organization %[3]s)
  emulator   %[4]s   table %[5]s
  demo       conversation %[6]s of agent %[7]s
  try        curl -s -XPOST -H 'x-api-key: %[2]s' %[1]s/v1/v2/conversations/%[6]s/reevaluate
Ctrl-C stops everything.
`, s.APIURL, key, devstack.DevOrg, s.Endpoint, s.Resources.Table, devstack.DemoConv, devstack.DemoAgent)
	<-ctx.Done()
	log.Info("stopping")
	s.Close()
}
