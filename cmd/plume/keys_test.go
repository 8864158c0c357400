package main

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/uuid"

	"github.com/plume-evals/plume/internal/store"
)

var (
	secretRE = regexp.MustCompile(`plm_[A-Za-z0-9_-]{43}\b`)
	keyIDRE  = regexp.MustCompile(`(?m)^key id\s+(\S+)$`)
	orgRE    = regexp.MustCompile(`(?m)^organization\s+(\S+) \(new\)$`)
)

// created parses the output of keys create.
func created(t *testing.T, r result) (secret, id string) {
	t.Helper()
	if r.code != exitOK {
		t.Fatalf("keys create: exit %d, stderr %s", r.code, r.stderr)
	}
	secrets := secretRE.FindAllString(r.stdout, -1)
	m := keyIDRE.FindStringSubmatch(r.stdout)
	if len(secrets) != 1 || m == nil {
		t.Fatalf("keys create printed %d secrets and key id %v; want one of each:\n%s", len(secrets), m, r.stdout)
	}
	if !strings.Contains(r.stdout, "shown only this once") {
		t.Errorf("no warning that the key is shown once:\n%s", r.stdout)
	}
	return secrets[0], m[1]
}

func TestKeys(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	org := uuid.NewString()

	secret, id := created(t, f.run("keys", "create", "--org", strings.ToUpper(org), "--name", "ci"))

	// Stored by its hash, under the organization, with its name.
	k, err := f.store.KeyByHash(ctx, store.HashKey(secret))
	if err != nil {
		t.Fatalf("KeyByHash(HashKey(printed secret)): %v", err)
	}
	if k.ID != id || k.OrgID != org || k.Name != "ci" || k.RevokedAt != nil {
		t.Errorf("stored key %+v; want id %s, org %s, name ci, not revoked", k, id, org)
	}
	// The secret itself is nowhere in the table.
	out, err := f.env.DDB.Scan(ctx, &dynamodb.ScanInput{TableName: &f.env.Table})
	if err != nil {
		t.Fatal(err)
	}
	hashes := 0
	for _, it := range out.Items {
		var m map[string]any
		if err := attributevalue.UnmarshalMap(it, &m); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(m)
		if strings.Contains(string(b), secret) || strings.Contains(string(b), strings.TrimPrefix(secret, keyPrefix)) {
			t.Errorf("the secret is stored in %s", b)
		}
		hashes += strings.Count(string(b), store.HashKey(secret))
	}
	if hashes == 0 {
		t.Errorf("the secret's hash is not in the table")
	}

	// The printed key authenticates as its organization.
	if r := f.run("runs", "--key", secret); r.code != exitOK || !strings.Contains(r.stdout, "no runs") {
		t.Fatalf("runs with the new key: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// keys list shows ids, names and times, never secrets or hashes.
	r := f.run("keys", "list", "--org", org)
	if r.code != exitOK || !strings.Contains(r.stdout, id) || !strings.Contains(r.stdout, "ci") {
		t.Fatalf("keys list: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, secret) || strings.Contains(r.stdout, store.HashKey(secret)) {
		t.Errorf("keys list shows a secret or a hash:\n%s", r.stdout)
	}
	if got := lines(r.stdout); len(got) != 2 || !strings.HasSuffix(got[1], " -") {
		t.Errorf("keys list = %q; want a header and one key, not revoked", got)
	}

	// Revoked, it is refused.
	if r := f.run("keys", "revoke", "--org", org, "--id", id); r.code != exitOK || !strings.Contains(r.stdout, "revoked API key "+id) {
		t.Fatalf("keys revoke: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = f.run("runs", "--key", secret)
	if r.code != exitFail || !strings.Contains(r.stderr, "401 unauthorized") {
		t.Errorf("runs with the revoked key: exit %d, stderr %q; want 1 and 401 unauthorized", r.code, r.stderr)
	}
	r = f.run("keys", "list", "--org", org)
	if got := lines(r.stdout); len(got) != 2 || strings.HasSuffix(got[1], " -") {
		t.Errorf("keys list after revoke = %q; want the key with its revocation time", got)
	}

	// Revoking a key the organization does not have fails.
	r = f.run("keys", "revoke", "--org", uuid.NewString(), "--id", id)
	if r.code != exitFail || !strings.Contains(r.stderr, "has no API key "+id) {
		t.Errorf("revoke in another org: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestKeysCreateNewOrganization(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.run("keys", "create")
	secret, id := created(t, r)
	m := orgRE.FindStringSubmatch(r.stdout)
	if m == nil || uuid.Validate(m[1]) != nil {
		t.Fatalf("no new organization printed:\n%s", r.stdout)
	}
	k, err := f.store.KeyByHash(context.Background(), store.HashKey(secret))
	if err != nil || k.OrgID != m[1] || k.ID != id {
		t.Fatalf("stored key %+v, %v; want org %s", k, err, m[1])
	}
	if r := f.run("keys", "list", "--org", m[1]); !strings.Contains(r.stdout, id) {
		t.Errorf("keys list of the new organization:\n%s", r.stdout)
	}
	// The new organization sees nothing of the fixture's.
	if r := f.run("runs", "--key", secret); r.code != exitOK {
		t.Errorf("runs with the new organization's key: exit %d %s", r.code, r.stderr)
	}
}

func TestKeysStoreNotConfigured(t *testing.T) {
	t.Parallel()
	c := testCLI(nil)
	c.openKeys = func(ctx context.Context) (keyStore, error) { return openKeyStore(ctx, c.getenv) }
	r := run(t, c, "", "keys", "list", "--org", uuid.NewString())
	if r.code != exitFail || !strings.Contains(r.stderr, "PLUME_TABLE is not set") || !strings.Contains(r.stderr, "source .cache/dev.env") {
		t.Errorf("exit %d, stderr %q; want 1, PLUME_TABLE is not set and the dev.env hint", r.code, r.stderr)
	}
}
