package main

import (
	"strings"
	"testing"
)

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		golden string
		args   []string
	}{
		{"help", []string{"--help"}},
		{"help", []string{"-h"}},
		{"help", []string{"help"}},
		{"help-keys", []string{"keys", "--help"}},
		{"help-keys-create", []string{"keys", "create", "--help"}},
		{"help-keys-list", []string{"keys", "list", "-h"}},
		{"help-keys-revoke", []string{"keys", "revoke", "--help"}},
		{"help-import", []string{"import", "--help"}},
		{"help-reevaluate", []string{"reevaluate", "--help"}},
		{"help-reevaluate", []string{"help", "reevaluate"}},
		{"help-reevaluate", []string{"reevaluate", "00000000-0000-4000-8000-0000000000c1", "--wait", "-h"}},
		{"help-runs", []string{"runs", "--help"}},
		{"help-task", []string{"task", "--help"}},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			t.Parallel()
			// Help must not depend on the environment, least of all show a key.
			cl := testCLI(map[string]string{"PLUME_URL": "https://from-env.invalid", "PLUME_API_KEY": "secret-from-env"})
			r := run(t, cl, "", c.args...)
			if r.code != exitOK || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q; want 0 and nothing", r.code, r.stderr)
			}
			if strings.Contains(r.stdout, "secret-from-env") || strings.Contains(r.stdout, "from-env.invalid") {
				t.Fatalf("help shows the environment:\n%s", r.stdout)
			}
			golden(t, c.golden, r.stdout)
		})
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		env    map[string]string
		args   []string
		stderr string // a part of it
	}{
		{"no command", nil, nil, "Usage:\n  plume <command>"},
		{"unknown command", nil, []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"keys without command", nil, []string{"keys"}, "Usage: plume keys <create|list|revoke>"},
		{"unknown keys command", nil, []string{"keys", "rotate"}, `unknown command "rotate"`},
		{"unknown flag", nil, []string{"runs", "--bogus"}, "flag provided but not defined: -bogus\nRun 'plume runs --help' for usage."},
		{"bad flag value", nil, []string{"reevaluate", "x", "--timeout", "soon"}, `invalid value "soon" for flag -timeout`},
		{"score not a number", nil, []string{"runs", "--score-min", "high"}, "want a number between 0 and 1"},
		{"no conversation id", nil, []string{"reevaluate", "--wait"}, "want one conversation id"},
		{"two conversation ids", nil, []string{"reevaluate", "a", "b"}, "want one conversation id"},
		{"zero timeout", nil, []string{"reevaluate", "a", "--timeout", "0s"}, "--timeout must be positive"},
		{"no task id", nil, []string{"task"}, "want one task id"},
		{"two files", nil, []string{"import", "a.jsonl", "b.jsonl"}, "one file at most"},
		{"file twice", nil, []string{"import", "a.jsonl", "--file", "b.jsonl"}, "not both"},
		{"bad concurrency", nil, []string{"import", "--concurrency", "0"}, "--concurrency: want 1..64"},
		{"list without org", nil, []string{"keys", "list"}, "--org is required"},
		{"org not a uuid", nil, []string{"keys", "create", "--org", "acme"}, `--org: "acme" is not a UUID`},
		{"revoke without id", nil, []string{"keys", "revoke", "--org", "00000000-0000-4000-8000-000000000001"}, "--org and --id are required"},
		{"url not http", nil, []string{"runs", "--url", "ftp://example.com"}, `--url "ftp://example.com": want an http(s) base URL`},
		{"remote without key", nil, []string{"runs", "--url", "https://api.example.com"}, "no API key for https://api.example.com: set --key or PLUME_API_KEY"},
		{"remote without key from env", map[string]string{"PLUME_URL": "https://api.example.com"}, []string{"task", "x"}, "no API key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, testCLI(c.env), "", c.args...)
			if r.code != exitUsage {
				t.Errorf("exit %d, want %d", r.code, exitUsage)
			}
			if !strings.Contains(r.stderr, c.stderr) {
				t.Errorf("stderr %q does not contain %q", r.stderr, c.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
		})
	}
}

func TestClientSettings(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name          string
		env           map[string]string
		flags         apiFlags
		base, key     string
		warnPlainHTTP bool
	}{
		{"defaults: the dev stack", nil, apiFlags{}, "http://127.0.0.1:8000", "plume-dev-key", false},
		{"localhost gets the dev key", nil, apiFlags{url: "http://localhost:9000/"}, "http://localhost:9000", "plume-dev-key", false},
		{"environment", map[string]string{"PLUME_URL": "https://api.example.com/prod", "PLUME_API_KEY": "k1"}, apiFlags{},
			"https://api.example.com/prod", "k1", false},
		{"flags win", map[string]string{"PLUME_URL": "https://a.example.com", "PLUME_API_KEY": "k1"},
			apiFlags{url: "https://b.example.com", key: "k2"}, "https://b.example.com", "k2", false},
		{"plain http to a remote host", nil, apiFlags{url: "http://10.0.0.8:8000", key: "k"}, "http://10.0.0.8:8000", "k", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var stderr strings.Builder
			cl, err := testCLI(c.env).client(&c.flags, &stderr)
			if err != nil {
				t.Fatal(err)
			}
			if cl.base != c.base || cl.key != c.key {
				t.Errorf("base %q key %q, want %q %q", cl.base, cl.key, c.base, c.key)
			}
			if got := strings.Contains(stderr.String(), "plain http"); got != c.warnPlainHTTP {
				t.Errorf("plain-http warning %v, want %v (stderr %q)", got, c.warnPlainHTTP, stderr.String())
			}
		})
	}
}
