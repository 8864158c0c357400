package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/plume-evals/plume/internal/eval"
)

// GetConversation returns a conversation of the organization.
func (s *Store) GetConversation(ctx context.Context, orgID, id string) (eval.Conversation, error) {
	var it convItem
	if err := s.get(ctx, convKey(orgID, id), &it); err != nil {
		if errors.Is(err, eval.ErrNotFound) {
			return eval.Conversation{}, eval.Errorf(eval.ErrNotFound, "conversation %s not found", id)
		}
		return eval.Conversation{}, fmt.Errorf("get conversation %s: %w", id, translate(err))
	}
	return it.domain(), nil
}

// notEvaluating is the condition of every write that must not change a
// conversation while a task holds its guard.
const notEvaluating = "(attribute_not_exists(active_task) OR lease_ms < :now)"

// PutResult tells what PutConversation found before it wrote.
type PutResult struct {
	Created    bool   // the conversation did not exist
	PrevStatus string // its status before ("" when created)
	Generation string // its visible generation ("" when never evaluated)
}

// PutConversation creates or replaces a conversation and its transcript. It
// keeps the conversation's evaluation state. It returns eval.ErrInProgress while the conversation is
// being evaluated. Turns are separate items, so no transcript within the
// API's limits meets DynamoDB's item size limit.
func (s *Store) PutConversation(ctx context.Context, c eval.Conversation, turns []eval.Turn) (PutResult, error) {
	meta, err := json.Marshal(c.Metadata)
	if err != nil {
		return PutResult{}, fmt.Errorf("encode metadata: %w", err)
	}
	vals := map[string]types.AttributeValue{
		":now": ms(c.UpdatedAt), ":id": str(c.ID), ":org": str(c.OrgID), ":agent": str(c.AgentID),
		":type": str(c.SessionType), ":channel": str(c.Channel), ":status": str(c.Status), ":meta": str(string(meta)),
		":created": av(c.CreatedAt), ":updated": av(c.UpdatedAt), ":count": av(len(turns)),
	}
	set := "SET id = :id, org_id = :org, agent_id = :agent, session_type = :type, channel = :channel, #st = :status, " +
		"metadata = :meta, created_at = if_not_exists(created_at, :created), updated_at = :updated, message_count = :count"
	var remove []string
	opt := func(name, attr string, v any, present bool) {
		if present {
			vals[name] = av(v)
			set += ", " + attr + " = " + name
		} else {
			remove = append(remove, attr)
		}
	}
	opt(":scenario", "scenario_id", c.ScenarioID, c.ScenarioID != "")
	opt(":started", "started_at", c.StartedAt, c.StartedAt != nil)
	opt(":ended", "ended_at", c.EndedAt, c.EndedAt != nil)
	expr := set
	if len(remove) > 0 {
		expr += " REMOVE " + strings.Join(remove, ", ")
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       convKey(c.OrgID, c.ID).av(),
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR " + notEvaluating),
		UpdateExpression:          aws.String(expr),
		ExpressionAttributeNames:  map[string]string{"#st": "status"},
		ExpressionAttributeValues: vals,
		ReturnValues:              types.ReturnValueAllOld,
	})
	if isConditionFailed(err) {
		return PutResult{}, eval.Errorf(eval.ErrInProgress, "conversation %s is being evaluated; try again when the evaluation ends", c.ID)
	}
	if err != nil {
		return PutResult{}, fmt.Errorf("put conversation %s: %w", c.ID, translate(err))
	}
	var old struct {
		ID     string `dynamodbav:"id"`
		Count  int    `dynamodbav:"message_count"`
		Status string `dynamodbav:"status"`
		Gen    string `dynamodbav:"gen"`
	}
	_ = attributevalue.UnmarshalMap(out.Attributes, &old)
	reqs := make([]types.WriteRequest, 0, len(turns))
	for _, t := range turns {
		reqs = append(reqs, putReq(toTurnItem(c.OrgID, t)))
	}
	for seq := len(turns); seq < old.Count; seq++ {
		reqs = append(reqs, deleteReq(turnKey(c.OrgID, c.ID, seq)))
	}
	if err := s.batchWrite(ctx, reqs); err != nil {
		return PutResult{}, fmt.Errorf("write turns of %s: %w", c.ID, err)
	}
	return PutResult{Created: old.ID == "", PrevStatus: old.Status, Generation: old.Gen}, nil
}

// Turns returns the conversation's transcript in order.
func (s *Store) Turns(ctx context.Context, orgID, id string) ([]eval.Turn, error) {
	return s.turns(ctx, orgID, id, 0)
}

// RecentTurns returns the last n turns in order.
func (s *Store) RecentTurns(ctx context.Context, orgID, id string, n int) ([]eval.Turn, error) {
	return s.turns(ctx, orgID, id, n)
}

func (s *Store) turns(ctx context.Context, orgID, id string, last int) ([]eval.Turn, error) {
	in := &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :turn)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(convPK(orgID, id)), ":turn": str(skTurn),
		},
		ConsistentRead: aws.Bool(true),
	}
	if last > 0 {
		in.ScanIndexForward = aws.Bool(false)
		in.Limit = aws.Int32(int32(last))
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("recent turns of %s: %w", id, translate(err))
		}
		turns := make([]eval.Turn, len(out.Items))
		for i, m := range out.Items {
			var it turnItem
			if err := attributevalue.UnmarshalMap(m, &it); err != nil {
				return nil, fmt.Errorf("decode turn: %w", err)
			}
			turns[len(out.Items)-1-i] = it.domain()
		}
		return turns, nil
	}
	turns := []eval.Turn{}
	err := s.queryAll(ctx, in, func(m map[string]types.AttributeValue) error {
		var it turnItem
		if err := attributevalue.UnmarshalMap(m, &it); err != nil {
			return fmt.Errorf("decode turn: %w", err)
		}
		turns = append(turns, it.domain())
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("turns of %s: %w", id, err)
	}
	return turns, nil
}

// DeleteConversation removes a conversation with its turns, runs and
// scores. It returns eval.ErrNotFound or eval.ErrInProgress.
func (s *Store) DeleteConversation(ctx context.Context, orgID, id string, now time.Time) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                           &s.table,
		Key:                                 convKey(orgID, id).av(),
		ConditionExpression:                 aws.String("attribute_exists(PK) AND " + notEvaluating),
		ExpressionAttributeValues:           map[string]types.AttributeValue{":now": ms(now)},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if isConditionFailed(err) {
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) && ccf.Item == nil {
			return eval.Errorf(eval.ErrNotFound, "conversation %s not found", id)
		}
		return eval.Errorf(eval.ErrInProgress, "conversation %s is being evaluated; try again when the evaluation ends", id)
	}
	if err != nil {
		return fmt.Errorf("delete conversation %s: %w", id, translate(err))
	}
	// The conversation is gone, so nothing of it can be read any more; the
	// rest is cleanup.
	var reqs []types.WriteRequest
	collect := func(m map[string]types.AttributeValue) error {
		var k key
		if err := attributevalue.UnmarshalMap(m, &k); err != nil {
			return err
		}
		reqs = append(reqs, deleteReq(k))
		return nil
	}
	if err := s.queryAll(ctx, &dynamodb.QueryInput{
		TableName: &s.table, KeyConditionExpression: aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(convPK(orgID, id))},
		ProjectionExpression:      aws.String("PK, SK"),
	}, collect); err != nil {
		return fmt.Errorf("list turns of %s: %w", id, err)
	}
	if _, err := s.DeleteOtherGenerations(ctx, orgID, id, ""); err != nil {
		return err
	}
	return s.batchWrite(ctx, reqs)
}
