package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/plume-evals/plume/internal/eval"
)

// GetTask returns a task of the organization.
func (s *Store) GetTask(ctx context.Context, orgID, id string) (eval.Task, error) {
	var it taskItem
	if err := s.get(ctx, taskKey(orgID, id), &it); err != nil {
		if errors.Is(err, eval.ErrNotFound) {
			return eval.Task{}, eval.Errorf(eval.ErrNotFound, "eval task %s not found", id)
		}
		return eval.Task{}, fmt.Errorf("get task %s: %w", id, translate(err))
	}
	return it.domain(), nil
}

// PlanTask fixes the runs of a reevaluate task (run ids and their
// evaluators, index for index), once: the first worker to plan wins and
// later deliveries read its plan. It marks the task running and returns the
// task as stored.
func (s *Store) PlanTask(ctx context.Context, task eval.Task, runIDs, evaluatorIDs []string) (eval.Task, error) {
	ids, evs := runIDs, evaluatorIDs
	if len(ids) == 0 {
		ids, evs = []string{}, []string{}
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &s.table,
		Key:                      taskKey(task.OrgID, task.ID).av(),
		ConditionExpression:      aws.String("attribute_exists(PK) AND planned = :no"),
		UpdateExpression:         aws.String("SET run_ids = :ids, evaluator_ids = :evs, planned = :yes, #total = :total, #st = :running"),
		ExpressionAttributeNames: map[string]string{"#total": "total", "#st": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":ids": av(ids), ":evs": av(evs), ":no": av(false), ":yes": av(true), ":total": av(len(ids)), ":running": str(eval.TaskRunning),
		},
	})
	if err != nil && !isConditionFailed(err) {
		return eval.Task{}, fmt.Errorf("plan task %s: %w", task.ID, translate(err))
	}
	return s.GetTask(ctx, task.OrgID, task.ID)
}

// StartTask marks a planned task running (retry tasks are planned at
// creation).
func (s *Store) StartTask(ctx context.Context, task eval.Task) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       taskKey(task.OrgID, task.ID).av(),
		ConditionExpression:       aws.String("attribute_exists(PK) AND #st = :queued"),
		UpdateExpression:          aws.String("SET #st = :running"),
		ExpressionAttributeNames:  map[string]string{"#st": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":queued": str(eval.TaskQueued), ":running": str(eval.TaskRunning)},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("start task %s: %w", task.ID, translate(err))
	}
	return nil
}
