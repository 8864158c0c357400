package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/plume-evals/plume/internal/eval"
)

// HashKey returns the stored form of an API key secret: its hex SHA-256.
func HashKey(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// PutAPIKey stores a key (its hash only) under its hash, for
// authentication, and under its organization, for listing and revoking.
func (s *Store) PutAPIKey(ctx context.Context, k eval.APIKey) error {
	err := s.transact(ctx, []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: marshal(toAPIKeyItem(apiKeyKey(k.Hash), k))}},
		{Put: &types.Put{TableName: &s.table, Item: marshal(toAPIKeyItem(orgAPIKeyKey(k.OrgID, k.ID), k))}},
	})
	if err != nil {
		return fmt.Errorf("put api key %s: %w", k.ID, translate(err))
	}
	return nil
}

// KeyByHash returns the key with that hash; eval.ErrUnauthorized when none.
func (s *Store) KeyByHash(ctx context.Context, hash string) (eval.APIKey, error) {
	var it apiKeyItem
	if err := s.get(ctx, apiKeyKey(hash), &it); err != nil {
		if errors.Is(err, eval.ErrNotFound) {
			return eval.APIKey{}, eval.ErrUnauthorized
		}
		return eval.APIKey{}, fmt.Errorf("get api key: %w", translate(err))
	}
	return it.domain(), nil
}

// ListAPIKeys returns the organization's keys (hashes, never secrets).
func (s *Store) ListAPIKeys(ctx context.Context, orgID string) ([]eval.APIKey, error) {
	var keys []eval.APIKey
	err := s.queryAll(ctx, &dynamodb.QueryInput{
		TableName: &s.table, KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :k)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pkOrg + orgID), ":k": str("APIKEY#")},
	}, func(m map[string]types.AttributeValue) error {
		var it apiKeyItem
		if err := attributevalue.UnmarshalMap(m, &it); err != nil {
			return err
		}
		keys = append(keys, it.domain())
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return keys, nil
}

// RevokeAPIKey marks a key revoked in both places.
func (s *Store) RevokeAPIKey(ctx context.Context, orgID, id string, now time.Time) error {
	var it apiKeyItem
	if err := s.get(ctx, orgAPIKeyKey(orgID, id), &it); err != nil {
		if errors.Is(err, eval.ErrNotFound) {
			return eval.Errorf(eval.ErrNotFound, "api key %s not found", id)
		}
		return fmt.Errorf("get api key %s: %w", id, translate(err))
	}
	upd := func(k key) types.TransactWriteItem {
		return types.TransactWriteItem{Update: &types.Update{
			TableName: &s.table, Key: k.av(), UpdateExpression: aws.String("SET revoked_at = if_not_exists(revoked_at, :now)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": av(now.UTC())},
		}}
	}
	if err := s.transact(ctx, []types.TransactWriteItem{upd(apiKeyKey(it.Hash)), upd(orgAPIKeyKey(orgID, id))}); err != nil {
		return fmt.Errorf("revoke api key %s: %w", id, translate(err))
	}
	return nil
}
