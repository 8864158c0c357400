// Package testenv is the integration-test harness: it starts one moto
// server (a real AWS emulator speaking DynamoDB and SQS over HTTP) per test
// binary, and gives every test its own table and queues built from
// template.yaml.
//
// moto runs single-threaded (devstack.StartMoto says why). Concurrency tests
// still race the handlers: every read and write of a request is a separate
// HTTP call that interleaves with the other requests' calls, so a
// read-then-write guard would still let two requests through.
//
// Set PLUME_TEST_ENDPOINT to use an emulator that is already running.
package testenv

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/plume-evals/plume"
	"github.com/plume-evals/plume/internal/devstack"
)

var (
	once     sync.Once
	endpoint string
	startErr error
	moto     *devstack.Moto
	counter  atomic.Int64
)

// Main runs the tests of a package and stops the emulator afterwards. Call
// it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop ends the emulator this binary started, if any.
func Stop() {
	if moto != nil {
		moto.Stop()
	}
}

// Endpoint returns the emulator's URL, starting it on first use.
func Endpoint(t testing.TB) string {
	t.Helper()
	if _, err := Start(); err != nil {
		t.Fatalf("start moto: %v", err)
	}
	return endpoint
}

// Start starts the emulator outside a test (a benchmark's setup) and
// returns its URL.
func Start() (string, error) {
	once.Do(func() {
		if e := os.Getenv("PLUME_TEST_ENDPOINT"); e != "" {
			endpoint = e
			return
		}
		moto, startErr = devstack.StartMoto("127.0.0.1:0")
		if startErr == nil {
			endpoint = moto.URL
		}
	})
	return endpoint, startErr
}

// Config returns an SDK config for the emulator at url.
func Config(url string) aws.Config { return devstack.Config(url) }

// Env is one test's private AWS resources.
type Env struct {
	DDB *dynamodb.Client
	SQS *sqs.Client
	devstack.Resources
}

// New creates a fresh table and queues for t on the shared emulator.
func New(t testing.TB) Env {
	t.Helper()
	url := Endpoint(t)
	cfg := Config(url)
	ddb := dynamodb.NewFromConfig(cfg)
	sq := sqs.NewFromConfig(cfg)
	prefix := fmt.Sprintf("t%d-%d", os.Getpid(), counter.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := devstack.CreateResources(ctx, ddb, sq, plume.Template, prefix)
	if err != nil {
		t.Fatalf("create resources: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &res.Table})
		_, _ = sq.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: &res.QueueURL})
		_, _ = sq.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: &res.DLQURL})
	})
	return Env{DDB: ddb, SQS: sq, Resources: res}
}
