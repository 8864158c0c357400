package app

import (
	"strings"
	"testing"
	"time"
)

func TestLoad(t *testing.T) {
	t.Parallel()
	base := map[string]string{"PLUME_TABLE": "t", "PLUME_QUEUE_URL": "http://q"}
	for _, c := range []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(Config) bool
	}{
		{"defaults", nil, "", func(c Config) bool {
			return c.Lease == 15*time.Minute && c.WorkerConcurrency == 4 && c.MaxAttempts == 5 && c.JudgeModel == "gpt-4o-mini"
		}},
		{"overrides", map[string]string{"PLUME_LEASE": "20m", "PLUME_WORKER_CONCURRENCY": "8", "PLUME_MAX_ATTEMPTS": "3", "PLUME_JUDGE_MODEL": "m"}, "",
			func(c Config) bool {
				return c.Lease == 20*time.Minute && c.WorkerConcurrency == 8 && c.MaxAttempts == 3 && c.JudgeModel == "m"
			}},
		{"missing table", map[string]string{"PLUME_TABLE": ""}, "PLUME_TABLE", nil},
		{"bad lease", map[string]string{"PLUME_LEASE": "soon"}, "PLUME_LEASE", nil},
		{"too short a lease", map[string]string{"PLUME_LEASE": "5s"}, "PLUME_LEASE", nil},
		{"bad concurrency", map[string]string{"PLUME_WORKER_CONCURRENCY": "0"}, "PLUME_WORKER_CONCURRENCY", nil},
	} {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		for k, v := range c.env {
			env[k] = v
		}
		cfg, err := Load(func(k string) string { return env[k] })
		switch {
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%s: err = %v, want one naming %s", c.name, err, c.wantErr)
		case c.wantErr == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.check != nil && !c.check(cfg):
			t.Errorf("%s: config = %+v", c.name, cfg)
		}
	}
}
