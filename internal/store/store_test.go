package store_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/plume-evals/plume/internal/eval"
	"github.com/plume-evals/plume/internal/store"
	"github.com/plume-evals/plume/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// conflicting wraps the real client and cancels the first n transactions
// with a TransactionConflict, as DynamoDB does under contention (moto never
// does).
type conflicting struct {
	*dynamodb.Client
	left  atomic.Int64
	calls atomic.Int64
}

func (c *conflicting) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.calls.Add(1)
	if c.left.Add(-1) >= 0 {
		reasons := make([]types.CancellationReason, len(in.TransactItems))
		for i := range reasons {
			reasons[i] = types.CancellationReason{Code: aws.String("None")}
		}
		reasons[0].Code = aws.String("TransactionConflict")
		return nil, &types.TransactionCanceledException{Message: aws.String("Transaction cancelled"), CancellationReasons: reasons}
	}
	return c.Client.TransactWriteItems(ctx, in, opts...)
}

func setup(t *testing.T, conflicts int64) (*store.Store, *conflicting, string, string) {
	t.Helper()
	env := testenv.New(t)
	db := &conflicting{Client: env.DDB}
	db.left.Store(0)
	st := store.New(db, env.Table)
	org, conv := uuid.NewString(), uuid.NewString()
	now := time.Now().UTC()
	if _, err := st.PutConversation(context.Background(), eval.Conversation{ID: conv, OrgID: org, AgentID: uuid.NewString(),
		SessionType: "live", Channel: "chat", Status: "closed", CreatedAt: now, UpdatedAt: now}, nil); err != nil {
		t.Fatal(err)
	}
	db.left.Store(conflicts)
	return st, db, org, conv
}

func TestTransactionConflictIsRetriedBriefly(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name      string
		conflicts int64
		wantErr   error
		wantCalls int64
	}{
		{"no conflict", 0, nil, 1},
		{"two conflicts then success", 2, nil, 3},
		{"persistent conflict is a 409", 100, eval.ErrInProgress, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			st, db, org, conv := setup(t, c.conflicts)
			now := time.Now().UTC()
			task := eval.Task{ID: uuid.NewString(), OrgID: org, SessionID: conv, Kind: eval.TaskReevaluate, Status: eval.TaskQueued, CreatedAt: now}
			task.Generation = task.ID
			err := st.BeginReevaluate(context.Background(), task, now, now.Add(time.Minute))
			if (c.wantErr == nil && err != nil) || (c.wantErr != nil && !errors.Is(err, c.wantErr)) {
				t.Fatalf("BeginReevaluate = %v, want %v", err, c.wantErr)
			}
			if got := db.calls.Load(); got != c.wantCalls {
				t.Errorf("TransactWriteItems calls = %d, want %d", got, c.wantCalls)
			}
		})
	}
}

func TestCursorIsScopedAndTamperProof(t *testing.T) {
	t.Parallel()
	st, _, org, _ := setup(t, 0)
	ctx := context.Background()
	now := time.Now().UTC()
	for i := range 3 {
		e := eval.Evaluator{ID: uuid.NewString(), OrgID: org, Name: "e", Kind: eval.KindRegex, Format: eval.FormatBoolean,
			Status: eval.EvaluatorActive, CreatedAt: now.Add(time.Duration(i) * time.Second), UpdatedAt: now}
		if err := st.PutEvaluator(ctx, e, true); err != nil {
			t.Fatal(err)
		}
	}
	page, next, err := st.ListEvaluators(ctx, org, "", 2, "")
	if err != nil || len(page) != 2 || next == "" {
		t.Fatalf("first page: %d items, cursor %q, %v", len(page), next, err)
	}
	rest, end, err := st.ListEvaluators(ctx, org, "", 2, next)
	if err != nil || len(rest) != 1 || end != "" {
		t.Fatalf("second page: %d items, cursor %q, %v", len(rest), end, err)
	}
	for name, cur := range map[string]string{
		"another organization": next,
		"tampered":             next[:len(next)-3] + "abc",
		"garbage":              "!!!",
	} {
		other := org
		if name == "another organization" {
			other = uuid.NewString()
		}
		items, _, err := st.ListEvaluators(ctx, other, "", 2, cur)
		if !errors.Is(err, store.ErrBadCursor) || len(items) != 0 {
			t.Errorf("%s cursor: %d items, %v; want ErrBadCursor and no data", name, len(items), err)
		}
	}
}

func TestAnotherOrganizationSeesNothing(t *testing.T) {
	t.Parallel()
	st, _, org, conv := setup(t, 0)
	ctx := context.Background()
	other := uuid.NewString()
	if _, err := st.GetConversation(ctx, other, conv); !errors.Is(err, eval.ErrNotFound) {
		t.Errorf("GetConversation from another org: %v", err)
	}
	now := time.Now().UTC()
	task := eval.Task{ID: uuid.NewString(), OrgID: other, SessionID: conv, Kind: eval.TaskReevaluate, CreatedAt: now}
	task.Generation = task.ID
	if err := st.BeginReevaluate(ctx, task, now, now.Add(time.Minute)); !errors.Is(err, eval.ErrNotFound) {
		t.Errorf("BeginReevaluate from another org: %v, want not found", err)
	}
	if err := st.DeleteConversation(ctx, other, conv, now); !errors.Is(err, eval.ErrNotFound) {
		t.Errorf("DeleteConversation from another org: %v", err)
	}
	if _, err := st.GetConversation(ctx, org, conv); err != nil {
		t.Errorf("the owner lost the conversation: %v", err)
	}
}

func TestAPIKeysAreStoredHashed(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	st := store.New(env.DDB, env.Table)
	ctx := context.Background()
	secret := "plm_" + uuid.NewString()
	k := eval.APIKey{ID: uuid.NewString(), OrgID: uuid.NewString(), Name: "ci", Hash: store.HashKey(secret), CreatedAt: time.Now().UTC()}
	if err := st.PutAPIKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	out, err := env.DDB.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(env.Table)})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range out.Items {
		for name, v := range it {
			if s, ok := v.(*types.AttributeValueMemberS); ok && s.Value == secret {
				t.Fatalf("the secret is stored in attribute %s", name)
			}
		}
	}
	got, err := st.KeyByHash(ctx, store.HashKey(secret))
	if err != nil || got.OrgID != k.OrgID {
		t.Fatalf("KeyByHash = %+v, %v", got, err)
	}
	if err := st.RevokeAPIKey(ctx, k.OrgID, k.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.KeyByHash(ctx, store.HashKey(secret)); got.RevokedAt == nil {
		t.Fatal("revoked key reads as active")
	}
}

func TestLargeTranscriptFitsWhateverItsSize(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	st := store.New(env.DDB, env.Table)
	ctx := context.Background()
	org, conv := uuid.NewString(), uuid.NewString()
	big := make([]byte, 60000)
	for i := range big {
		big[i] = 'a' + byte(i%26)
	}
	turns := make([]eval.Turn, 40) // 2.4 MB in all: six times DynamoDB's item limit
	for i := range turns {
		turns[i] = eval.Turn{ID: eval.TurnID(conv, i), SessionID: conv, Seq: i, Role: "user", Content: string(big)}
	}
	now := time.Now().UTC()
	c := eval.Conversation{ID: conv, OrgID: org, AgentID: uuid.NewString(), SessionType: "live", Channel: "chat",
		Status: "active", CreatedAt: now, UpdatedAt: now, MessageCount: len(turns)}
	if _, err := st.PutConversation(ctx, c, turns); err != nil {
		t.Fatal(err)
	}
	// Replacing with a shorter transcript deletes the tail.
	if _, err := st.PutConversation(ctx, c, turns[:3]); err != nil {
		t.Fatal(err)
	}
	got, err := st.Turns(ctx, org, conv)
	if err != nil || len(got) != 3 || len(got[2].Content) != len(big) {
		t.Fatalf("turns after replace = %d, %v", len(got), err)
	}
}
