package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/plume-evals/plume/internal/eval"
)

// The guard lives on the conversation item: gen (the visible generation),
// prev_gen (restored by Abort), active_task, task_kind, lease_ms, and the
// sparse GSI3 keys that let the sweeper find expired leases. Every guard
// change is conditioned, so exactly one task holds it at a time.

const releaseGuard = " REMOVE active_task, task_kind, lease_ms, GSI3PK, GSI3SK, prev_gen"

func ms(t time.Time) types.AttributeValue { return av(t.UnixMilli()) }

func leaseValues(task eval.Task, now, until time.Time) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		":task":    str(task.ID),
		":kind":    str(task.Kind),
		":now":     ms(now),
		":lease":   ms(until),
		":leasepk": str(gsiLeases),
		":leasesk": str(stamp(until) + "#" + task.OrgID + "#" + task.SessionID),
	}
}

// BeginReevaluate implements eval.Guards: one TransactWriteItems of two
// actions, whatever the number of evaluators or earlier runs.
func (s *Store) BeginReevaluate(ctx context.Context, task eval.Task, now, until time.Time) error {
	vals := leaseValues(task, now, until)
	vals[":none"] = str("")
	items := []types.TransactWriteItem{
		{Update: &types.Update{
			TableName: &s.table,
			Key:       convKey(task.OrgID, task.SessionID).av(),
			ConditionExpression: aws.String("attribute_exists(PK) AND " +
				"(attribute_not_exists(active_task) OR lease_ms < :now)"),
			UpdateExpression: aws.String("SET prev_gen = if_not_exists(gen, :none), gen = :task, active_task = :task, " +
				"task_kind = :kind, lease_ms = :lease, GSI3PK = :leasepk, GSI3SK = :leasesk"),
			ExpressionAttributeValues:           vals,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
		s.newTask(task),
	}
	err := s.transact(ctx, items)
	if err == nil {
		return nil
	}
	if isTransactionConflict(err) {
		return inProgress(task)
	}
	if r, ok := cancelled(err); ok && reasonCode(r, 0) == "ConditionalCheckFailed" {
		if r[0].Item == nil {
			return eval.Errorf(eval.ErrNotFound, "conversation %s not found", task.SessionID)
		}
		return inProgress(task)
	}
	return fmt.Errorf("begin reevaluate %s: %w", task.SessionID, translate(err))
}

// BeginRetry implements eval.Guards: one transaction of three actions.
func (s *Store) BeginRetry(ctx context.Context, task eval.Task, run eval.Run, now, until time.Time) error {
	vals := leaseValues(task, now, until)
	vals[":gen"] = str(run.Generation)
	runVals := map[string]types.AttributeValue{
		":task": str(task.ID), ":old": str(run.TaskID), ":pending": str(eval.StatusPending),
		":failed": str(eval.StatusFailed), ":errored": str(eval.StatusErrored),
	}
	items := []types.TransactWriteItem{
		{Update: &types.Update{
			TableName:           &s.table,
			Key:                 convKey(task.OrgID, task.SessionID).av(),
			ConditionExpression: aws.String("attribute_exists(PK) AND gen = :gen AND attribute_not_exists(active_task)"),
			UpdateExpression: aws.String("SET active_task = :task, task_kind = :kind, lease_ms = :lease, " +
				"GSI3PK = :leasepk, GSI3SK = :leasesk"),
			ExpressionAttributeValues:           dropUnused(vals, ":now"),
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
		{Update: &types.Update{
			TableName:                           &s.table,
			Key:                                 runKey(task.OrgID, run.ID).av(),
			ConditionExpression:                 aws.String("attribute_exists(PK) AND task_id = :old AND #st IN (:failed, :errored)"),
			UpdateExpression:                    aws.String("SET prev_status = #st, prev_task = task_id, #st = :pending, task_id = :task"),
			ExpressionAttributeNames:            map[string]string{"#st": "status"},
			ExpressionAttributeValues:           runVals,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
		s.newTask(task),
	}
	err := s.transact(ctx, items)
	if err == nil {
		return nil
	}
	if isTransactionConflict(err) {
		return inProgress(task)
	}
	r, ok := cancelled(err)
	if !ok {
		return fmt.Errorf("begin retry %s: %w", run.ID, translate(err))
	}
	notFound := eval.Errorf(eval.ErrNotFound, "eval run %s not found", run.ID)
	switch {
	case reasonCode(r, 0) == "ConditionalCheckFailed":
		var c convItem
		if r[0].Item == nil || attributevalue.UnmarshalMap(r[0].Item, &c) != nil || c.Generation != run.Generation {
			return notFound // the run belongs to a generation that was wiped
		}
		return inProgress(task)
	case reasonCode(r, 1) == "ConditionalCheckFailed":
		var ri runItem
		if r[1].Item == nil || attributevalue.UnmarshalMap(r[1].Item, &ri) != nil {
			return notFound
		}
		if !eval.IsTerminal(ri.Status) {
			return inProgress(task)
		}
		return eval.Errorf(eval.ErrNotRetryable, "run %s is %s; only failed or errored runs can be retried", run.ID, ri.Status)
	}
	return fmt.Errorf("begin retry %s: %w", run.ID, err)
}

// newTask is the transaction action that records a new task.
func (s *Store) newTask(task eval.Task) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{
		TableName:           &s.table,
		Item:                marshal(toTaskItem(task)),
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	}}
}

func inProgress(task eval.Task) error {
	return eval.Errorf(eval.ErrInProgress, "an evaluation of conversation %s is already in progress", task.SessionID)
}

func dropUnused(m map[string]types.AttributeValue, names ...string) map[string]types.AttributeValue {
	for _, n := range names {
		delete(m, n)
	}
	return m
}

// Abort implements eval.Guards.
func (s *Store) Abort(ctx context.Context, task eval.Task) error {
	conv := &types.Update{
		TableName:                 &s.table,
		Key:                       convKey(task.OrgID, task.SessionID).av(),
		ConditionExpression:       aws.String("active_task = :task"),
		UpdateExpression:          aws.String("SET gen = prev_gen" + releaseGuard),
		ExpressionAttributeValues: map[string]types.AttributeValue{":task": str(task.ID)},
	}
	items := []types.TransactWriteItem{{Update: conv}, {Delete: &types.Delete{TableName: &s.table, Key: taskKey(task.OrgID, task.ID).av()}}}
	if task.Kind == eval.TaskRetry {
		conv.UpdateExpression = aws.String(releaseGuard[1:])
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName:                 &s.table,
			Key:                       runKey(task.OrgID, task.RunID).av(),
			ConditionExpression:       aws.String("task_id = :task"),
			UpdateExpression:          aws.String("SET #st = prev_status, task_id = prev_task REMOVE prev_status, prev_task"),
			ExpressionAttributeNames:  map[string]string{"#st": "status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":task": str(task.ID)},
		}})
	}
	err := s.transact(ctx, items)
	if r, ok := cancelled(err); ok && reasonCode(r, 0) == "ConditionalCheckFailed" {
		return fmt.Errorf("abort task %s: %w", task.ID, eval.ErrStale)
	}
	if err != nil {
		return fmt.Errorf("abort task %s: %w", task.ID, translate(err))
	}
	return nil
}

// ExtendLease moves the lease of the guard task holds to until. It returns
// eval.ErrStale when task no longer holds the guard.
func (s *Store) ExtendLease(ctx context.Context, task eval.Task, until time.Time) error {
	vals := leaseValues(task, until, until)
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       convKey(task.OrgID, task.SessionID).av(),
		ConditionExpression:       aws.String("active_task = :task"),
		UpdateExpression:          aws.String("SET lease_ms = :lease, GSI3SK = :leasesk"),
		ExpressionAttributeValues: dropUnused(vals, ":kind", ":now", ":leasepk"),
	})
	if isConditionFailed(err) {
		return fmt.Errorf("extend lease of task %s: %w", task.ID, eval.ErrStale)
	}
	if err != nil {
		return fmt.Errorf("extend lease of task %s: %w", task.ID, translate(err))
	}
	return nil
}

// Finish records the conversation's new eval_summary, releases the guard
// and marks the task completed, in one transaction conditioned on task
// still holding the guard (eval.ErrStale otherwise).
func (s *Store) Finish(ctx context.Context, task eval.Task, sum eval.Summary, now time.Time) error {
	items := []types.TransactWriteItem{
		{Update: &types.Update{
			TableName:           &s.table,
			Key:                 convKey(task.OrgID, task.SessionID).av(),
			ConditionExpression: aws.String("active_task = :task"),
			UpdateExpression:    aws.String("SET eval_summary = :sum" + releaseGuard),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":task": str(task.ID), ":sum": av(toSummaryAttr(sum)),
			},
		}},
		{Update: &types.Update{
			TableName: &s.table,
			Key:       taskKey(task.OrgID, task.ID).av(),
			UpdateExpression: aws.String("SET #st = :done, finished_at = :now, #total = :total, completed = :completed, " +
				"failed = :failed, errored = :errored"),
			ExpressionAttributeNames: map[string]string{"#st": "status", "#total": "total"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":done": str(eval.TaskCompleted), ":now": av(now.UTC()), ":total": av(task.Total),
				":completed": av(task.Completed), ":failed": av(task.Failed), ":errored": av(task.Errored),
			},
		}},
	}
	err := s.transact(ctx, items)
	if r, ok := cancelled(err); ok && reasonCode(r, 0) == "ConditionalCheckFailed" {
		return fmt.Errorf("finish task %s: %w", task.ID, eval.ErrStale)
	}
	if err != nil {
		return fmt.Errorf("finish task %s: %w", task.ID, translate(err))
	}
	return nil
}

// Expired returns up to limit conversations whose guard's lease ended
// before now, oldest first.
func (s *Store) Expired(ctx context.Context, now time.Time, limit int) ([]eval.Conversation, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              &s.table,
		IndexName:              aws.String(idxLeases),
		KeyConditionExpression: aws.String("GSI3PK = :pk AND GSI3SK < :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(gsiLeases), ":now": str(stamp(now)),
		},
		Limit: aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, fmt.Errorf("query expired leases: %w", translate(err))
	}
	var items []convItem
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
		return nil, fmt.Errorf("decode expired leases: %w", err)
	}
	convs := make([]eval.Conversation, 0, len(items))
	for _, it := range items {
		convs = append(convs, it.domain())
	}
	return convs, nil
}
