package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/plume-evals/plume/internal/eval"
)

// DB is the part of the DynamoDB client the store uses; *dynamodb.Client
// satisfies it, and tests wrap it to inject conflicts.
type DB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Store is Plume's DynamoDB adapter: one table holds every entity (see
// keys.go and doc.go).
type Store struct {
	db    DB
	table string
	// ConflictRetries is how often a transaction cancelled by a
	// TransactionConflict is tried again before the store gives up.
	ConflictRetries int
}

var _ eval.Guards = (*Store)(nil)

// New returns a store on table.
func New(db DB, table string) *Store {
	return &Store{db: db, table: table, ConflictRetries: 3}
}

// Table returns the table name.
func (s *Store) Table() string { return s.table }

func marshal(v any) map[string]types.AttributeValue {
	m, err := attributevalue.MarshalMap(v)
	if err != nil {
		// Only our own item structs are marshalled: a failure is a bug.
		panic(fmt.Sprintf("store: marshal %T: %v", v, err))
	}
	return m
}

func av(v any) types.AttributeValue {
	a, err := attributevalue.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("store: marshal %T: %v", v, err))
	}
	return a
}

func (k key) av() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: k.PK},
		"SK": &types.AttributeValueMemberS{Value: k.SK},
	}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

// get reads one item strongly consistently into out; eval.ErrNotFound when
// it does not exist.
func (s *Store) get(ctx context.Context, k key, out any) error {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: k.av(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return translate(err)
	}
	if res.Item == nil {
		return eval.ErrNotFound
	}
	if err := attributevalue.UnmarshalMap(res.Item, out); err != nil {
		return fmt.Errorf("decode %s: %w", k.PK, err)
	}
	return nil
}

// translate turns an SDK error into an error of a known kind where one
// applies; everything else is wrapped unchanged (the API answers 500).
func translate(err error) error {
	if err == nil {
		return nil
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("%w: condition failed", eval.ErrInProgress)
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "InternalServerError", "ServiceUnavailable":
			return fmt.Errorf("%w: dynamodb %s", eval.ErrUnavailable, api.ErrorCode())
		}
	}
	return err
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// cancelled returns the cancellation reasons of a cancelled transaction.
func cancelled(err error) ([]types.CancellationReason, bool) {
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		return tce.CancellationReasons, true
	}
	return nil, false
}

func reasonCode(r []types.CancellationReason, i int) string {
	if i < len(r) && r[i].Code != nil {
		return *r[i].Code
	}
	return ""
}

func hasConflict(r []types.CancellationReason) bool {
	for i := range r {
		if reasonCode(r, i) == "TransactionConflict" {
			return true
		}
	}
	return false
}

func isTransactionConflict(err error) bool {
	var tc *types.TransactionConflictException
	if errors.As(err, &tc) {
		return true
	}
	r, ok := cancelled(err)
	return ok && hasConflict(r)
}

// transact runs a transaction, retrying it briefly while it is cancelled by
// a TransactionConflict (the SDK does not retry those). A conflict that
// persists is returned as is; callers decide what it means.
func (s *Store) transact(ctx context.Context, items []types.TransactWriteItem) error {
	in := &dynamodb.TransactWriteItemsInput{TransactItems: items}
	var err error
	for attempt := 0; ; attempt++ {
		_, err = s.db.TransactWriteItems(ctx, in)
		if err == nil || !isTransactionConflict(err) || attempt >= s.ConflictRetries {
			return err
		}
		// 10, 20, 40 ms with full jitter.
		d := time.Duration(rand.Int64N(int64(10*time.Millisecond) << attempt))
		select {
		case <-ctx.Done():
			return err
		case <-time.After(d):
		}
	}
}

// batchWrite writes requests 25 at a time, resending unprocessed ones.
func (s *Store) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	for len(reqs) > 0 {
		n := min(25, len(reqs))
		pending := map[string][]types.WriteRequest{s.table: reqs[:n]}
		reqs = reqs[n:]
		for tries := 0; len(pending) > 0 && len(pending[s.table]) > 0; tries++ {
			if tries > 8 {
				return fmt.Errorf("%w: batch write left unprocessed items", eval.ErrUnavailable)
			}
			if tries > 0 {
				time.Sleep(time.Duration(25<<tries) * time.Millisecond)
			}
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return translate(err)
			}
			pending = out.UnprocessedItems
		}
	}
	return nil
}

func deleteReq(k key) types.WriteRequest {
	return types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k.av()}}
}

func putReq(item any) types.WriteRequest {
	return types.WriteRequest{PutRequest: &types.PutRequest{Item: marshal(item)}}
}

// batchGet reads keys strongly consistently, 100 at a time, and decodes each
// item with decode. Missing items are skipped.
func (s *Store) batchGet(ctx context.Context, keys []key, decode func(map[string]types.AttributeValue) error) error {
	for len(keys) > 0 {
		n := min(100, len(keys))
		ks := make([]map[string]types.AttributeValue, 0, n)
		for _, k := range keys[:n] {
			ks = append(ks, k.av())
		}
		keys = keys[n:]
		req := map[string]types.KeysAndAttributes{s.table: {Keys: ks, ConsistentRead: aws.Bool(true)}}
		for tries := 0; len(req) > 0 && len(req[s.table].Keys) > 0; tries++ {
			if tries > 8 {
				return fmt.Errorf("%w: batch get left unprocessed keys", eval.ErrUnavailable)
			}
			if tries > 0 {
				time.Sleep(time.Duration(25<<tries) * time.Millisecond)
			}
			out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return translate(err)
			}
			for _, it := range out.Responses[s.table] {
				if err := decode(it); err != nil {
					return err
				}
			}
			req = out.UnprocessedKeys
		}
	}
	return nil
}
