// Package testenv is the integration-test harness: it starts one moto
// server (a real AWS emulator speaking DynamoDB and SQS over HTTP) per test
// binary, and gives every test its own table and queues built from
// template.yaml.
//
// moto runs single-threaded: moto is not concurrency safe (a failing
// TransactWriteItems restores a deep copy of the table, wiping writes
// acknowledged in between), and serving one request at a time removes that
// race without changing DynamoDB's semantics, which are serializable for
// transactions anyway. Concurrency tests still race the handlers: every
// read and write of a request is a separate HTTP call that interleaves
// with the other requests' calls.
//
// Set PLUME_TEST_ENDPOINT to use an emulator that is already running.
package testenv

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/plume-evals/plume"
	"github.com/plume-evals/plume/internal/devstack"
)

var (
	once     sync.Once
	endpoint string
	startErr error
	proc     *exec.Cmd
	counter  atomic.Int64
)

// motoScript serves moto's every service on one single-threaded server.
const motoScript = `import sys
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
run_simple("127.0.0.1", int(sys.argv[1]), DomainDispatcherApplication(create_backend_app), threaded=False)
`

// Main runs the tests of a package and stops the emulator afterwards. Call
// it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop ends the emulator this binary started, if any.
func Stop() {
	if proc != nil && proc.Process != nil {
		_ = syscall.Kill(-proc.Process.Pid, syscall.SIGKILL)
		_ = proc.Wait()
	}
}

// Endpoint returns the emulator's URL, starting it on first use.
func Endpoint(t testing.TB) string {
	t.Helper()
	once.Do(func() { endpoint, startErr = start() })
	if startErr != nil {
		t.Fatalf("start moto: %v", startErr)
	}
	return endpoint
}

// Start starts the emulator outside a test (benchmarks' setup, the dev
// stack) and returns its URL.
func Start() (string, error) {
	once.Do(func() { endpoint, startErr = start() })
	return endpoint, startErr
}

func start() (string, error) {
	if e := os.Getenv("PLUME_TEST_ENDPOINT"); e != "" {
		return e, nil
	}
	port, err := freePort()
	if err != nil {
		return "", err
	}
	cmd := exec.Command("python3", "-c", motoScript, fmt.Sprint(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("python3 with moto is needed (pip install 'moto[server]'): %w", err)
	}
	proc = cmd
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := WaitReady(url, 30*time.Second); err != nil {
		Stop()
		return "", fmt.Errorf("%w; moto said: %s", err, logs.String())
	}
	return url, nil
}

// WaitReady polls moto's reset endpoint until it answers.
func WaitReady(url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		resp, err := http.Post(url+"/moto-api/reset", "application/json", nil)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("moto at %s not ready after %s", url, limit)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Config returns an SDK config for an emulator at url: static credentials
// and a real region, as moto needs.
func Config(url string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(url),
	}
}

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
