package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/plume-evals/plume/internal/app"
	"github.com/plume-evals/plume/internal/eval"
	"github.com/plume-evals/plume/internal/store"
)

// keyStore is the part of the store the keys commands use (*store.Store).
type keyStore interface {
	PutAPIKey(ctx context.Context, k eval.APIKey) error
	ListAPIKeys(ctx context.Context, orgID string) ([]eval.APIKey, error)
	// RevokeAPIKey returns eval.ErrNotFound for a key the organization
	// does not have.
	RevokeAPIKey(ctx context.Context, orgID, id string, now time.Time) error
}

var _ keyStore = (*store.Store)(nil)

const envHint = "the keys commands need PLUME_TABLE and AWS credentials; for the local stack run: source .cache/dev.env (written by make dev)"

// openKeyStore opens the table of PLUME_TABLE with the SDK's default
// credentials, region and AWS_ENDPOINT_URL.
func openKeyStore(ctx context.Context, getenv func(string) string) (keyStore, error) {
	cfg, err := app.Load(getenv)
	if err != nil {
		return nil, fmt.Errorf("%w\n%s", err, envHint)
	}
	awsCfg, err := app.AWS(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w\n%s", err, envHint)
	}
	return app.Store(cfg, awsCfg), nil
}

// keyPrefix marks Plume secrets, so that secret scanners and people can
// tell them apart.
const keyPrefix = "plm_"

// newSecret returns a fresh secret: keyPrefix and 32 random bytes in
// unpadded base64url.
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return keyPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

const keysUsage = `Usage: plume keys <create|list|revoke> [flags]

Manages API keys in the table directly (no API key needed): PLUME_TABLE and AWS
credentials must be set; for the local stack: source .cache/dev.env

Commands:
  create   create a key; the secret is printed once and only its SHA-256 is stored
  list     list an organization's keys: ids, names, created, revoked
  revoke   revoke a key; it answers 401 from then on

Run 'plume keys <command> --help' for flags and examples.
`

func (c *cli) runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, keysUsage)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, keysUsage)
		return exitOK
	case "create":
		return c.runKeysCreate(ctx, args[1:], stdout, stderr)
	case "list":
		return c.runKeysList(ctx, args[1:], stdout, stderr)
	case "revoke":
		return c.runKeysRevoke(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "plume keys: unknown command %q\n\n", args[0])
	fmt.Fprint(stderr, keysUsage)
	return exitUsage
}

var keysCreateSpec = spec{
	name:     "keys create",
	synopsis: "plume keys create [--org <uuid>] [--name <name>]",
	about: `Creates an API key for an organization and prints its secret once: only the
secret's SHA-256 is stored, so it cannot be shown again. Without --org a new
organization is created (a new UUID, printed). Writes the table of PLUME_TABLE
with the default AWS credentials; for the local stack: source .cache/dev.env`,
	examples: `  source .cache/dev.env
  plume keys create --org 00000000-0000-4000-8000-000000000001 --name ci
  plume keys create --name acme            # a new organization`,
}

func (c *cli) runKeysCreate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	s := keysCreateSpec
	fs := s.flags()
	org := fs.String("org", "", "organization `uuid` (default: a new organization)")
	name := fs.String("name", "", "a `name` for the key, shown by keys list")
	pos, code, ok := s.parse(fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return s.usageError(stderr, "unexpected argument "+pos[0])
	}
	newOrg := *org == ""
	orgID := c.newID()
	if !newOrg {
		var err error
		if orgID, err = canonicalUUID(*org); err != nil {
			return s.usageError(stderr, "--org: "+err.Error())
		}
	}
	if len(*name) > 200 {
		return s.usageError(stderr, "--name: at most 200 characters")
	}
	st, err := c.openKeys(ctx)
	if err != nil {
		return s.fail(stderr, err)
	}
	secret, err := newSecret()
	if err != nil {
		return s.fail(stderr, fmt.Errorf("generate a secret: %w", err))
	}
	k := eval.APIKey{ID: c.newID(), OrgID: orgID, Name: *name, Hash: store.HashKey(secret), CreatedAt: c.now().UTC()}
	if err := st.PutAPIKey(ctx, k); err != nil {
		return s.fail(stderr, err)
	}
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "key id\t%s\n", k.ID)
	if newOrg {
		fmt.Fprintf(w, "organization\t%s (new)\n", k.OrgID)
	} else {
		fmt.Fprintf(w, "organization\t%s\n", k.OrgID)
	}
	if k.Name != "" {
		fmt.Fprintf(w, "name\t%s\n", k.Name)
	}
	fmt.Fprintf(w, "API key\t%s\n", secret)
	_ = w.Flush()
	fmt.Fprintln(stdout, "\nSave the API key now: it is shown only this once and cannot be recovered (only its SHA-256 is stored).")
	return exitOK
}

var keysListSpec = spec{
	name:     "keys list",
	synopsis: "plume keys list --org <uuid>",
	about: `Lists an organization's API keys: id, name, created and revoked times. Secrets
are never stored, and hashes are not shown.`,
	examples: `  plume keys list --org 00000000-0000-4000-8000-000000000001`,
}

func (c *cli) runKeysList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	s := keysListSpec
	fs := s.flags()
	org := fs.String("org", "", "organization `uuid` (required)")
	pos, code, ok := s.parse(fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return s.usageError(stderr, "unexpected argument "+pos[0])
	}
	orgID, err := canonicalUUID(*org)
	if *org == "" {
		return s.usageError(stderr, "--org is required")
	} else if err != nil {
		return s.usageError(stderr, "--org: "+err.Error())
	}
	st, err := c.openKeys(ctx)
	if err != nil {
		return s.fail(stderr, err)
	}
	keys, err := st.ListAPIKeys(ctx, orgID)
	if err != nil {
		return s.fail(stderr, err)
	}
	if len(keys) == 0 {
		fmt.Fprintf(stdout, "organization %s has no API keys\n", orgID)
		return exitOK
	}
	slices.SortFunc(keys, func(a, b eval.APIKey) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tCREATED\tREVOKED")
	for _, k := range keys {
		revoked := "-"
		if k.RevokedAt != nil {
			revoked = k.RevokedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", k.ID, dash(oneLine(k.Name, 40)), k.CreatedAt.UTC().Format(time.RFC3339), revoked)
	}
	_ = w.Flush()
	return exitOK
}

var keysRevokeSpec = spec{
	name:     "keys revoke",
	synopsis: "plume keys revoke --org <uuid> --id <key id>",
	about: `Revokes an API key (the id that keys create and keys list show). Requests with
it are answered 401; a running API may accept it for up to a minute more, the
time it caches a key. Revoking a revoked key changes nothing.`,
	examples: `  plume keys revoke --org 00000000-0000-4000-8000-000000000001 --id 5f0c9a7e-2d41-4c8b-9e6f-0a1b2c3d4e5f`,
}

func (c *cli) runKeysRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	s := keysRevokeSpec
	fs := s.flags()
	org := fs.String("org", "", "organization `uuid` (required)")
	id := fs.String("id", "", "key `id` (required)")
	pos, code, ok := s.parse(fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return s.usageError(stderr, "unexpected argument "+pos[0])
	}
	if *org == "" || *id == "" {
		return s.usageError(stderr, "--org and --id are required")
	}
	orgID, err := canonicalUUID(*org)
	if err != nil {
		return s.usageError(stderr, "--org: "+err.Error())
	}
	st, err := c.openKeys(ctx)
	if err != nil {
		return s.fail(stderr, err)
	}
	if err := st.RevokeAPIKey(ctx, orgID, *id, c.now()); err != nil {
		if errors.Is(err, eval.ErrNotFound) {
			return s.fail(stderr, fmt.Errorf("organization %s has no API key %s", orgID, *id))
		}
		return s.fail(stderr, err)
	}
	fmt.Fprintf(stdout, "revoked API key %s of organization %s (a running API may accept it for up to a minute more)\n", *id, orgID)
	return exitOK
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
