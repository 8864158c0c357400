package devstack

import (
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// motoScript serves every moto service on one single-threaded server. moto
// is not concurrency safe (a failing TransactWriteItems restores a copy of
// the table, wiping writes acknowledged in between); one request at a time
// removes the race without changing DynamoDB's semantics.
const motoScript = `import sys
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
run_simple(sys.argv[1], int(sys.argv[2]), DomainDispatcherApplication(create_backend_app), threaded=False)
`

// Moto is a moto server this process started.
type Moto struct {
	URL  string
	cmd  *exec.Cmd
	logs *strings.Builder
}

// StartMoto starts moto on addr ("127.0.0.1:0" picks a free port) and waits
// until it answers.
func StartMoto(addr string) (*Moto, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	// Check the port is free: an emulator left running would answer the
	// readiness probe and then vanish with its owner.
	l, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, fmt.Errorf("moto cannot listen on %s (another make dev running? set PLUME_MOTO_ADDR): %w", addr, err)
	}
	port = fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	m := &Moto{URL: "http://" + net.JoinHostPort(host, port), logs: &strings.Builder{}}
	m.cmd = exec.Command("python3", "-c", motoScript, host, port)
	// Own process group, and killed with us if we die first.
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	m.cmd.Stdout, m.cmd.Stderr = m.logs, m.logs
	if err := m.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto (python3 with moto[server] is needed: pip install 'moto[server]'): %w", err)
	}
	if err := WaitReady(m.URL, 30*time.Second); err != nil {
		m.Stop()
		return nil, fmt.Errorf("%w; moto said: %s", err, m.logs.String())
	}
	return m, nil
}

// Stop ends moto.
func (m *Moto) Stop() {
	if m.cmd != nil && m.cmd.Process != nil {
		_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
		_ = m.cmd.Wait()
	}
}

// WaitReady polls moto's reset endpoint until it answers 200.
func WaitReady(url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		resp, err := http.Post(url+"/moto-api/reset", "application/json", nil)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("moto at %s not ready after %s", url, limit)
}

// Config is an SDK config for an emulator at url: static credentials and a
// real region, as moto needs (unsigned requests are routed to S3).
func Config(url string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(url),
	}
}
