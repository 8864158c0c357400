package devstack

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/plume-evals/plume"
	"github.com/plume-evals/plume/internal/app"
	"github.com/plume-evals/plume/internal/worker"
)

// Options configure a local stack.
type Options struct {
	HTTPAddr string // API listen address ("127.0.0.1:0" picks a port)
	MotoAddr string // where to start moto when Endpoint is ""
	Endpoint string // an emulator already running (AWS_ENDPOINT_URL)
	DevKey   string // the dev organization's API key
	// Getenv reads the rest of the configuration (judge providers, lease,
	// concurrency, ...); os.Getenv when nil.
	Getenv func(string) string
	// EnvFile, when set, is where the stack's settings are written for
	// `make invoke`.
	EnvFile string
	// SweepEvery is the sweeper's period (default 30 s).
	SweepEvery time.Duration
	Log        *slog.Logger
}

// Stack is a running local stack.
type Stack struct {
	APIURL    string
	Endpoint  string
	Resources Resources
	srv       *http.Server
	moto      *Moto
	cancel    context.CancelFunc
	done      chan struct{}
}

// Start brings the whole stack up: the emulator (unless one is given), the
// table and queues from template.yaml, the seeded dev organization, the API
// and the worker and sweeper loops over the Lambdas' handlers.
func Start(ctx context.Context, o Options) (_ *Stack, err error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.SweepEvery == 0 {
		o.SweepEvery = 30 * time.Second
	}
	s := &Stack{Endpoint: o.Endpoint, done: make(chan struct{})}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.Endpoint == "" {
		if s.moto, err = StartMoto(o.MotoAddr); err != nil {
			return nil, err
		}
		s.Endpoint = s.moto.URL
	}
	awsCfg := Config(s.Endpoint)
	sq := sqs.NewFromConfig(awsCfg)
	if s.Resources, err = CreateResources(ctx, dynamodb.NewFromConfig(awsCfg), sq, plume.Template, "plume-dev"); err != nil {
		return nil, err
	}
	queueARN, err := QueueARN(ctx, sq, s.Resources.QueueURL)
	if err != nil {
		return nil, err
	}
	cfg, err := app.Load(func(name string) string {
		switch name {
		case "PLUME_TABLE":
			return s.Resources.Table
		case "PLUME_QUEUE_URL":
			return s.Resources.QueueURL
		case "PLUME_DLQ_ARN":
			return s.Resources.DLQARN
		}
		return o.Getenv(name)
	})
	if err != nil {
		return nil, err
	}
	if err := Seed(ctx, app.Store(cfg, awsCfg), o.DevKey, time.Now().UTC()); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	if o.EnvFile != "" {
		if err := writeEnv(o.EnvFile, s.Endpoint, s.Resources); err != nil {
			return nil, err
		}
	}
	api, err := app.API(cfg, awsCfg, o.Log)
	if err != nil {
		return nil, err
	}
	h, err := worker.Setup(cfg, awsCfg, worker.Providers(cfg, awsCfg), o.Log)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", o.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("API cannot listen on %s: %w", o.HTTPAddr, err)
	}
	s.APIURL = "http://" + ln.Addr().String()
	s.srv = &http.Server{Handler: api.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()

	loops, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	pollers := []*Poller{
		{SQS: sq, QueueURL: s.Resources.QueueURL, QueueARN: queueARN, Handle: h.Handle, Timeout: 120 * time.Second, Idle: 300 * time.Millisecond, Log: o.Log},
		{SQS: sq, QueueURL: s.Resources.DLQURL, QueueARN: s.Resources.DLQARN, Handle: h.Handle, Timeout: 120 * time.Second, Idle: time.Second, Log: o.Log},
	}
	go func() {
		defer close(s.done)
		done := make(chan struct{}, len(pollers))
		for _, p := range pollers {
			go func() { p.Run(loops); done <- struct{}{} }()
		}
		sweep(loops, h.Worker, o.SweepEvery, o.Log)
		for range pollers {
			<-done
		}
	}()
	return s, nil
}

func sweep(ctx context.Context, w *worker.Worker, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
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

// Close stops the API, the loops and the emulator it started.
func (s *Stack) Close() {
	if s.srv != nil {
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.srv.Shutdown(shut)
		cancel()
	}
	if s.cancel != nil {
		s.cancel()
		<-s.done
	}
	if s.moto != nil {
		s.moto.Stop()
	}
}

// writeEnv records the stack's settings for `make invoke`.
func writeEnv(path, endpoint string, res Resources) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	body := fmt.Sprintf("export AWS_ENDPOINT_URL=%s\nexport AWS_REGION=us-east-1\nexport AWS_ACCESS_KEY_ID=test\n"+
		"export AWS_SECRET_ACCESS_KEY=test\nexport PLUME_TABLE=%s\nexport PLUME_QUEUE_URL=%s\nexport PLUME_DLQ_ARN=%s\n",
		endpoint, res.Table, res.QueueURL, res.DLQARN)
	return os.WriteFile(path, []byte(body), 0o644)
}
