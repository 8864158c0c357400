package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/plume-evals/plume/internal/eval"
)

// GetRun implements eval.Guards. It returns the run whatever its
// generation; readers that must hide wiped runs use VisibleRun.
func (s *Store) GetRun(ctx context.Context, orgID, runID string) (eval.Run, error) {
	var it runItem
	if err := s.get(ctx, runKey(orgID, runID), &it); err != nil {
		if errors.Is(err, eval.ErrNotFound) {
			return eval.Run{}, eval.Errorf(eval.ErrNotFound, "eval run %s not found", runID)
		}
		return eval.Run{}, fmt.Errorf("get run %s: %w", runID, translate(err))
	}
	return it.domain(), nil
}

// VisibleRun returns a run only if it belongs to its conversation's current
// generation, with the conversation.
func (s *Store) VisibleRun(ctx context.Context, orgID, runID string) (eval.Run, eval.Conversation, error) {
	r, err := s.GetRun(ctx, orgID, runID)
	if err != nil {
		return eval.Run{}, eval.Conversation{}, err
	}
	c, err := s.GetConversation(ctx, orgID, r.SessionID)
	if errors.Is(err, eval.ErrNotFound) || (err == nil && c.Guard.Generation != r.Generation) {
		return eval.Run{}, eval.Conversation{}, eval.Errorf(eval.ErrNotFound, "eval run %s not found", runID)
	}
	return r, c, err
}

// GetRuns reads runs by id, strongly consistently; missing ids are absent
// from the map.
func (s *Store) GetRuns(ctx context.Context, orgID string, ids []string) (map[string]eval.Run, error) {
	keys := make([]key, len(ids))
	for i, id := range ids {
		keys[i] = runKey(orgID, id)
	}
	out := make(map[string]eval.Run, len(ids))
	err := s.batchGet(ctx, keys, func(m map[string]types.AttributeValue) error {
		var it runItem
		if err := attributevalue.UnmarshalMap(m, &it); err != nil {
			return fmt.Errorf("decode run: %w", err)
		}
		out[it.ID] = it.domain()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("get runs: %w", err)
	}
	return out, nil
}

// CreateRuns writes new runs of task in transactions of up to 99 runs, each
// conditioned on task still holding the conversation's guard and on the run
// not existing yet. It returns eval.ErrStale when task lost the guard and
// eval.ErrInProgress when a run already exists (a concurrent delivery).
func (s *Store) CreateRuns(ctx context.Context, task eval.Task, runs []eval.Run) error {
	for len(runs) > 0 {
		n := min(99, len(runs))
		items := []types.TransactWriteItem{{ConditionCheck: &types.ConditionCheck{
			TableName:                 &s.table,
			Key:                       convKey(task.OrgID, task.SessionID).av(),
			ConditionExpression:       aws.String("active_task = :task"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":task": str(task.ID)},
		}}}
		for _, r := range runs[:n] {
			items = append(items, types.TransactWriteItem{Put: &types.Put{
				TableName: &s.table, Item: marshal(toRunItem(r)), ConditionExpression: aws.String("attribute_not_exists(PK)"),
			}})
		}
		runs = runs[n:]
		err := s.transact(ctx, items)
		if r, ok := cancelled(err); ok {
			if reasonCode(r, 0) == "ConditionalCheckFailed" {
				return fmt.Errorf("create runs of task %s: %w", task.ID, eval.ErrStale)
			}
			return fmt.Errorf("create runs of task %s: %w", task.ID, eval.ErrInProgress)
		}
		if err != nil {
			return fmt.Errorf("create runs of task %s: %w", task.ID, translate(err))
		}
	}
	return nil
}

// SaveRun writes a run's new state, conditioned on the run still being
// owned by r.TaskID and not yet ended: a stale or duplicate worker gets
// eval.ErrStale and changes nothing.
func (s *Store) SaveRun(ctx context.Context, r eval.Run) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                &s.table,
		Item:                     marshal(toRunItem(r)),
		ConditionExpression:      aws.String("task_id = :task AND #st IN (:pending, :running)"),
		ExpressionAttributeNames: map[string]string{"#st": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":task": str(r.TaskID), ":pending": str(eval.StatusPending), ":running": str(eval.StatusRunning),
		},
	})
	if isConditionFailed(err) {
		return fmt.Errorf("save run %s: %w", r.ID, eval.ErrStale)
	}
	if err != nil {
		return fmt.Errorf("save run %s: %w", r.ID, translate(err))
	}
	return nil
}

// DeleteOtherGenerations deletes every run of the conversation that is not
// of generation keep, and returns how many it deleted.
func (s *Store) DeleteOtherGenerations(ctx context.Context, orgID, sessionID, keep string) (int, error) {
	var reqs []types.WriteRequest
	err := s.queryAll(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(idxByParent),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(runParentPK(orgID, sessionID))},
		ProjectionExpression:      aws.String("PK, SK, GSI1SK"),
	}, func(m map[string]types.AttributeValue) error {
		var k struct {
			key
			GSI1SK string `dynamodbav:"GSI1SK"`
		}
		if err := attributevalue.UnmarshalMap(m, &k); err != nil {
			return err
		}
		if keep == "" || !strings.HasPrefix(k.GSI1SK, genPrefix(keep)) {
			reqs = append(reqs, deleteReq(k.key))
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("list runs of %s: %w", sessionID, err)
	}
	if err := s.batchWrite(ctx, reqs); err != nil {
		return 0, fmt.Errorf("delete old runs of %s: %w", sessionID, err)
	}
	return len(reqs), nil
}

// queryAll runs a query to the end, page by page.
func (s *Store) queryAll(ctx context.Context, in *dynamodb.QueryInput, each func(map[string]types.AttributeValue) error) error {
	p := dynamodb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return translate(err)
		}
		for _, it := range out.Items {
			if err := each(it); err != nil {
				return err
			}
		}
	}
	return nil
}

// RunFilter selects runs of GET /v1/eval-runs. Zero values select all.
type RunFilter struct {
	SessionID   string
	EvaluatorID string
	AgentID     string
	TaskID      string
	Status      string
	Scope       string // the conversation's session type
	Outcome     string
	ScoreMin    *float64
	ScoreMax    *float64
}

// maxScanned bounds the items one list request reads while filtering.
const maxScanned = 2000

// ListRuns returns a page of the organization's visible runs, newest first,
// and the cursor of the next page ("" at the end).
func (s *Store) ListRuns(ctx context.Context, orgID string, f RunFilter, limit int, after string) ([]eval.Run, string, error) {
	in := &dynamodb.QueryInput{TableName: &s.table, ScanIndexForward: aws.Bool(false), ExpressionAttributeValues: map[string]types.AttributeValue{}}
	pos := position{index: "GSI2", pk: orgListPK(orgID, listRuns), entity: skRun}
	if f.SessionID != "" {
		// The conversation's own generation: a cursor of an older one, or
		// of a conversation the caller cannot see, is refused below.
		c, err := s.GetConversation(ctx, orgID, f.SessionID)
		switch {
		case errors.Is(err, eval.ErrNotFound):
			if after != "" {
				return nil, "", ErrBadCursor
			}
			return []eval.Run{}, "", nil
		case err != nil:
			return nil, "", err
		}
		pos = position{index: "GSI1", pk: runParentPK(orgID, f.SessionID), skPrefix: genPrefix(c.Guard.Generation), entity: skRun}
		in.IndexName = aws.String(idxByParent)
		in.KeyConditionExpression = aws.String("GSI1PK = :pk AND begins_with(GSI1SK, :gen)")
		in.ExpressionAttributeValues[":gen"] = str(pos.skPrefix)
	} else {
		in.IndexName = aws.String(idxByOrg)
		in.KeyConditionExpression = aws.String("GSI2PK = :pk")
	}
	in.ExpressionAttributeValues[":pk"] = str(pos.pk)
	start, err := decodeCursor(orgID, after, pos)
	if err != nil {
		return nil, "", err
	}
	in.ExclusiveStartKey = start
	var conds []string
	attrNames := map[string]string{}
	eq := func(attr, val string) {
		if val == "" {
			return
		}
		n := fmt.Sprintf("#f%d", len(conds))
		v := fmt.Sprintf(":f%d", len(conds))
		attrNames[n] = attr
		in.ExpressionAttributeValues[v] = str(val)
		conds = append(conds, n+" = "+v)
	}
	eq("evaluator_id", f.EvaluatorID)
	eq("agent_id", f.AgentID)
	eq("task_id", f.TaskID)
	eq("status", f.Status)
	eq("session_type", f.Scope)
	eq("outcome", f.Outcome)
	if f.ScoreMin != nil {
		in.ExpressionAttributeValues[":smin"] = av(*f.ScoreMin)
		conds = append(conds, "min_score >= :smin")
	}
	if f.ScoreMax != nil {
		in.ExpressionAttributeValues[":smax"] = av(*f.ScoreMax)
		conds = append(conds, "min_score <= :smax")
	}
	if len(conds) > 0 {
		in.FilterExpression = aws.String(strings.Join(conds, " AND "))
	}
	if len(attrNames) > 0 {
		in.ExpressionAttributeNames = attrNames
	}
	in.Limit = aws.Int32(int32(min(maxScanned, limit*2+10)))

	var runs []eval.Run
	var raw []map[string]types.AttributeValue
	scanned := 0
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, "", fmt.Errorf("list runs: %w", translate(err))
		}
		scanned += int(out.ScannedCount)
		page, pageRaw, err := s.visible(ctx, orgID, out.Items)
		if err != nil {
			return nil, "", err
		}
		runs, raw = append(runs, page...), append(raw, pageRaw...)
		if len(runs) > limit {
			return runs[:limit], encodeCursor(orgID, raw[limit-1], pos), nil
		}
		if out.LastEvaluatedKey == nil {
			return runs, "", nil
		}
		if scanned >= maxScanned {
			// Filters matched little: hand back a cursor at the position
			// reached so the client continues from there.
			return runs, encodeCursor(orgID, out.LastEvaluatedKey, pos), nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// visible decodes items and drops runs of wiped generations.
func (s *Store) visible(ctx context.Context, orgID string, items []map[string]types.AttributeValue) ([]eval.Run, []map[string]types.AttributeValue, error) {
	its := make([]runItem, len(items))
	convs := map[string]string{}
	for i, m := range items {
		if err := attributevalue.UnmarshalMap(m, &its[i]); err != nil {
			return nil, nil, fmt.Errorf("decode run: %w", err)
		}
		convs[its[i].SessionID] = ""
	}
	keys := make([]key, 0, len(convs))
	for id := range convs {
		keys = append(keys, convKey(orgID, id))
	}
	err := s.batchGet(ctx, keys, func(m map[string]types.AttributeValue) error {
		var c struct {
			ID  string `dynamodbav:"id"`
			Gen string `dynamodbav:"gen"`
		}
		if err := attributevalue.UnmarshalMap(m, &c); err != nil {
			return err
		}
		convs[c.ID] = c.Gen
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read generations: %w", err)
	}
	var runs []eval.Run
	var raw []map[string]types.AttributeValue
	for i, it := range its {
		if g := convs[it.SessionID]; g != "" && g == it.Generation {
			runs = append(runs, it.domain())
			raw = append(raw, items[i])
		}
	}
	return runs, raw, nil
}

// RunsOfGeneration returns every run of the conversation's generation gen
// (an index read: eventually consistent on AWS).
func (s *Store) RunsOfGeneration(ctx context.Context, orgID, sessionID, gen string) ([]eval.Run, error) {
	if gen == "" {
		return nil, nil
	}
	var runs []eval.Run
	err := s.queryAll(ctx, &dynamodb.QueryInput{
		TableName:              &s.table,
		IndexName:              aws.String(idxByParent),
		KeyConditionExpression: aws.String("GSI1PK = :pk AND begins_with(GSI1SK, :gen)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(runParentPK(orgID, sessionID)), ":gen": str(genPrefix(gen)),
		},
		ScanIndexForward: aws.Bool(false),
	}, func(m map[string]types.AttributeValue) error {
		var it runItem
		if err := attributevalue.UnmarshalMap(m, &it); err != nil {
			return fmt.Errorf("decode run: %w", err)
		}
		runs = append(runs, it.domain())
		return nil
	})
	return runs, err
}
