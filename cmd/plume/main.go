// Command plume is Plume's operator CLI: it creates, lists and revokes API
// keys (in the table, hashed), imports conversations from JSONL, starts a
// reevaluation and follows its task to the end, and lists runs with
// filters. It works against the local stack (make dev) and a deployed one.
// `plume --help` lists the commands; each has --help with examples.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := newCLI().run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
