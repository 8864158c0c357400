package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Exit statuses.
const (
	exitOK    = 0 // success (also --help)
	exitFail  = 1 // the command ran and failed: API error, failed import lines, timeout
	exitUsage = 2 // the command line is wrong: unknown command or flag, missing argument
)

const (
	defaultURL = "http://127.0.0.1:8000"
	devKey     = "plume-dev-key"
)

// cli holds what the commands take from their environment, so that tests
// can run them in parallel with their own.
type cli struct {
	getenv func(string) string
	stdin  io.Reader
	// tty reports whether w is a terminal (progress bars are drawn only
	// there).
	tty   func(w io.Writer) bool
	now   func() time.Time
	newID func() string
	// openKeys opens the key store (the DynamoDB table of PLUME_TABLE).
	openKeys func(ctx context.Context) (keyStore, error)
	http     *http.Client
	// pollMin and pollMax bound the interval between polls of a task.
	pollMin, pollMax time.Duration
}

func newCLI() *cli {
	c := &cli{
		getenv: os.Getenv, stdin: os.Stdin, tty: isTerminal, now: time.Now, newID: uuid.NewString,
		http: &http.Client{Timeout: 60 * time.Second}, pollMin: 500 * time.Millisecond, pollMax: 2 * time.Second,
	}
	c.openKeys = func(ctx context.Context) (keyStore, error) { return openKeyStore(ctx, c.getenv) }
	return c
}

const usage = `plume is the operator CLI of Plume, the Feather-compatible evaluation service.

Usage:
  plume <command> [arguments] [flags]

Commands:
  keys create   create an API key: printed once, stored hashed
  keys list     list an organization's API keys (never secrets)
  keys revoke   revoke an API key
  import        import conversations from JSONL (PUT /v1/v2/conversations/{id})
  reevaluate    re-run a conversation's evaluators; --wait follows the task to its end
  runs          list eval runs, with filters
  task          show an eval task

The API commands (import, reevaluate, runs, task) call the HTTP API:
  --url   base URL (env PLUME_URL; default http://127.0.0.1:8000, the API of make dev)
  --key   API key (env PLUME_API_KEY; default plume-dev-key, the key of make dev, but
          only when the URL is a loopback address)

The keys commands write the DynamoDB table directly: they need PLUME_TABLE and AWS
credentials (and AWS_ENDPOINT_URL for an emulator). For the local stack, in the
shell where you run plume:
  source .cache/dev.env      # written by make dev

Exit status: 0 success; 1 the command failed (API error, failed import lines,
timeout); 2 the command line is wrong.

Run 'plume <command> --help' for a command's flags and examples.
`

// run dispatches args (without the program name) to a command.
func (c *cli) run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case "help":
		if len(args) == 1 {
			fmt.Fprint(stdout, usage)
			return exitOK
		}
		return c.run(ctx, append(append([]string{}, args[1:]...), "--help"), stdout, stderr)
	case "keys":
		return c.runKeys(ctx, args[1:], stdout, stderr)
	case "import":
		return c.runImport(ctx, args[1:], stdout, stderr)
	case "reevaluate":
		return c.runReevaluate(ctx, args[1:], stdout, stderr)
	case "runs":
		return c.runRuns(ctx, args[1:], stdout, stderr)
	case "task":
		return c.runTask(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "plume: unknown command %q\n\n", args[0])
	fmt.Fprint(stderr, usage)
	return exitUsage
}

// spec describes a command for its --help.
type spec struct {
	name     string // as typed after plume: "keys create"
	synopsis string
	about    string
	examples string
}

func (s spec) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("plume "+s.name, flag.ContinueOnError)
	fs.Usage = func() {} // parse prints the help itself, on stdout
	return fs
}

func (s spec) help(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", s.synopsis, strings.TrimSpace(s.about))
	fmt.Fprint(w, "\nFlags:\n")
	fs.VisitAll(func(f *flag.Flag) {
		arg, text := flag.UnquoteUsage(f)
		if arg != "" {
			arg = " " + arg
		}
		switch f.DefValue {
		case "", "false", "0", "0s":
		default:
			text += " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(w, "  --%s%s\n        %s\n", f.Name, arg, text)
	})
	if s.examples != "" {
		fmt.Fprintf(w, "\nExamples:\n%s\n", strings.TrimRight(s.examples, "\n"))
	}
}

// parse parses flags and positional arguments in any order ("reevaluate
// <id> --wait" as well as "reevaluate --wait <id>"); "--" ends the flags.
// When ok is false the command returns code: --help was printed (0) or
// the command line is wrong (2).
func (s spec) parse(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (pos []string, code int, ok bool) {
	for {
		fs.SetOutput(stderr)
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			s.help(fs, stdout)
			return nil, exitOK, false
		}
		if err != nil {
			return nil, s.usageError(stderr, ""), false
		}
		rest := fs.Args()
		consumed := args[:len(args)-len(rest)]
		if len(rest) == 0 || (len(consumed) > 0 && consumed[len(consumed)-1] == "--") {
			return append(pos, rest...), 0, true
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// usageError prints msg (if any) and where to find help; it returns 2.
func (s spec) usageError(stderr io.Writer, msg string) int {
	if msg != "" {
		fmt.Fprintf(stderr, "plume %s: %s\n", s.name, msg)
	}
	fmt.Fprintf(stderr, "Run 'plume %s --help' for usage.\n", s.name)
	return exitUsage
}

// fail prints err and returns 1.
func (s spec) fail(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "plume %s: %v\n", s.name, err)
	return exitFail
}

// apiFlags are the flags of every command that calls the API. Their
// defaults are resolved after parsing so that --help never shows a key
// taken from the environment.
type apiFlags struct{ url, key string }

func addAPIFlags(fs *flag.FlagSet) *apiFlags {
	f := &apiFlags{}
	fs.StringVar(&f.url, "url", "", "API base `url` (env PLUME_URL; default "+defaultURL+")")
	fs.StringVar(&f.key, "key", "", "API `key` (env PLUME_API_KEY; default "+devKey+" when the URL is loopback)")
	return f
}

// client returns the API client the flags and environment describe; an
// error is a usage error.
func (c *cli) client(f *apiFlags, stderr io.Writer) (*client, error) {
	raw := first(f.url, c.getenv("PLUME_URL"), defaultURL)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--url %q: want an http(s) base URL such as %s", raw, defaultURL)
	}
	loopback := isLoopback(u.Hostname())
	key := first(f.key, c.getenv("PLUME_API_KEY"))
	if key == "" {
		if !loopback {
			return nil, fmt.Errorf("no API key for %s: set --key or PLUME_API_KEY (plume keys create makes one)", raw)
		}
		key = devKey
	}
	if u.Scheme == "http" && !loopback {
		fmt.Fprintf(stderr, "warning: sending the API key to %s over plain http\n", u.Host)
	}
	return &client{base: strings.TrimRight(u.String(), "/"), key: key, loopback: loopback, hc: c.http}, nil
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isTerminal reports whether w is a character device (a terminal), and not
// a dumb one.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("TERM") == "dumb" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// canonicalUUID returns s as a lowercase hyphenated UUID, or an error.
func canonicalUUID(s string) (string, error) {
	u, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return "", fmt.Errorf("%q is not a UUID", s)
	}
	return u.String(), nil
}
