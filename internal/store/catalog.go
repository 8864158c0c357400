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

// Evaluators, bindings and agents' eval configs.

// PutEvaluator creates (create true) or replaces an evaluator. Replacing a
// missing one is eval.ErrNotFound.
func (s *Store) PutEvaluator(ctx context.Context, e eval.Evaluator, create bool) error {
	cond := "attribute_exists(PK)"
	if create {
		cond = "attribute_not_exists(PK)"
	}
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table, Item: marshal(toEvaluatorItem(e)), ConditionExpression: aws.String(cond),
	})
	if isConditionFailed(err) && !create {
		return eval.Errorf(eval.ErrNotFound, "evaluator %s not found", e.ID)
	}
	if err != nil {
		return fmt.Errorf("put evaluator %s: %w", e.ID, translate(err))
	}
	return nil
}

// GetEvaluator returns an evaluator of the organization.
func (s *Store) GetEvaluator(ctx context.Context, orgID, id string) (eval.Evaluator, error) {
	var it evaluatorItem
	if err := s.get(ctx, evaluatorKey(orgID, id), &it); err != nil {
		if errors.Is(err, eval.ErrNotFound) {
			return eval.Evaluator{}, eval.Errorf(eval.ErrNotFound, "evaluator %s not found", id)
		}
		return eval.Evaluator{}, fmt.Errorf("get evaluator %s: %w", id, translate(err))
	}
	return it.domain(), nil
}

// GetEvaluators reads evaluators by id; missing ones are absent.
func (s *Store) GetEvaluators(ctx context.Context, orgID string, ids []string) (map[string]eval.Evaluator, error) {
	keys := make([]key, len(ids))
	for i, id := range ids {
		keys[i] = evaluatorKey(orgID, id)
	}
	out := map[string]eval.Evaluator{}
	err := s.batchGet(ctx, keys, func(m map[string]types.AttributeValue) error {
		var it evaluatorItem
		if err := attributevalue.UnmarshalMap(m, &it); err != nil {
			return fmt.Errorf("decode evaluator: %w", err)
		}
		out[it.ID] = it.domain()
		return nil
	})
	return out, err
}

// ListEvaluators returns a page of evaluators, newest first, optionally of
// one status.
func (s *Store) ListEvaluators(ctx context.Context, orgID, status string, limit int, after string) ([]eval.Evaluator, string, error) {
	in := orgListQuery(s.table, orgID, listEvaluators)
	if status != "" {
		in.FilterExpression = aws.String("#st = :status")
		in.ExpressionAttributeNames = map[string]string{"#st": "status"}
		in.ExpressionAttributeValues[":status"] = str(status)
	}
	pos := position{index: "GSI2", pk: orgListPK(orgID, listEvaluators), entity: skEvaluator}
	return listPage(ctx, s, in, orgID, pos, limit, after, func(it evaluatorItem) eval.Evaluator { return it.domain() })
}

// DeleteEvaluator deletes an evaluator and its bindings. Past runs keep
// their snapshots.
func (s *Store) DeleteEvaluator(ctx context.Context, orgID, id string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &s.table, Key: evaluatorKey(orgID, id).av(), ConditionExpression: aws.String("attribute_exists(PK)"),
	})
	if isConditionFailed(err) {
		return eval.Errorf(eval.ErrNotFound, "evaluator %s not found", id)
	}
	if err != nil {
		return fmt.Errorf("delete evaluator %s: %w", id, translate(err))
	}
	var reqs []types.WriteRequest
	err = s.queryAll(ctx, &dynamodb.QueryInput{
		TableName: &s.table, KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :bind)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(evaluatorPK(orgID, id)), ":bind": str(skBindMarker)},
		ConsistentRead:            aws.Bool(true),
	}, func(m map[string]types.AttributeValue) error {
		var mk bindMarkerItem
		if err := attributevalue.UnmarshalMap(m, &mk); err != nil {
			return err
		}
		reqs = append(reqs, deleteReq(mk.key), deleteReq(bindingKey(orgID, mk.BindingID)))
		return nil
	})
	if err != nil {
		return fmt.Errorf("list bindings of evaluator %s: %w", id, err)
	}
	return s.batchWrite(ctx, reqs)
}

// CreateBinding records a binding; one per evaluator and target. It returns
// eval.ErrDuplicate or eval.ErrNotFound (the evaluator is gone).
func (s *Store) CreateBinding(ctx context.Context, b eval.Binding) error {
	marker := bindMarkerItem{bindMarkerKey(b.OrgID, b.EvaluatorID, b.Scope, b.Target()), b.ID}
	err := s.transact(ctx, []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{
			TableName: &s.table, Key: evaluatorKey(b.OrgID, b.EvaluatorID).av(), ConditionExpression: aws.String("attribute_exists(PK)"),
		}},
		{Put: &types.Put{TableName: &s.table, Item: marshal(marker), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Put: &types.Put{TableName: &s.table, Item: marshal(toBindingItem(b)), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
	})
	if r, ok := cancelled(err); ok {
		switch {
		case reasonCode(r, 0) == "ConditionalCheckFailed":
			return eval.Errorf(eval.ErrNotFound, "evaluator %s not found", b.EvaluatorID)
		case reasonCode(r, 1) == "ConditionalCheckFailed":
			return eval.Errorf(eval.ErrDuplicate, "evaluator %s is already bound to %s %s", b.EvaluatorID, b.Scope, b.Target())
		}
	}
	if err != nil {
		return fmt.Errorf("create binding: %w", translate(err))
	}
	return nil
}

// GetBinding returns a binding of the organization.
func (s *Store) GetBinding(ctx context.Context, orgID, id string) (eval.Binding, error) {
	var it bindingItem
	if err := s.get(ctx, bindingKey(orgID, id), &it); err != nil {
		if errors.Is(err, eval.ErrNotFound) {
			return eval.Binding{}, eval.Errorf(eval.ErrNotFound, "evaluator binding %s not found", id)
		}
		return eval.Binding{}, fmt.Errorf("get binding %s: %w", id, translate(err))
	}
	return it.domain(), nil
}

// SetBindingCritical changes whether a binding is critical.
func (s *Store) SetBindingCritical(ctx context.Context, orgID, id string, critical bool) (eval.Binding, error) {
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: bindingKey(orgID, id).av(),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		UpdateExpression:          aws.String("SET is_critical = :c"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": av(critical)},
		ReturnValues:              types.ReturnValueAllNew,
	})
	if isConditionFailed(err) {
		return eval.Binding{}, eval.Errorf(eval.ErrNotFound, "evaluator binding %s not found", id)
	}
	if err != nil {
		return eval.Binding{}, fmt.Errorf("update binding %s: %w", id, translate(err))
	}
	var it bindingItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return eval.Binding{}, fmt.Errorf("decode binding: %w", err)
	}
	return it.domain(), nil
}

// DeleteBinding deletes a binding.
func (s *Store) DeleteBinding(ctx context.Context, orgID, id string) error {
	b, err := s.GetBinding(ctx, orgID, id)
	if err != nil {
		return err
	}
	return s.batchWrite(ctx, []types.WriteRequest{
		deleteReq(bindingKey(orgID, id)),
		deleteReq(bindMarkerKey(orgID, b.EvaluatorID, b.Scope, b.Target())),
	})
}

// BindingFilter selects bindings of GET /v1/evaluator-bindings.
type BindingFilter struct{ EvaluatorID, AgentID, ScenarioID string }

// ListBindings returns a page of bindings, newest first.
func (s *Store) ListBindings(ctx context.Context, orgID string, f BindingFilter, limit int, after string) ([]eval.Binding, string, error) {
	in := orgListQuery(s.table, orgID, listBindings)
	var conds []string
	add := func(attr, val string) {
		if val != "" {
			in.ExpressionAttributeValues[":"+attr] = str(val)
			conds = append(conds, attr+" = :"+attr)
		}
	}
	add("evaluator_id", f.EvaluatorID)
	add("agent_id", f.AgentID)
	add("scenario_id", f.ScenarioID)
	if len(conds) > 0 {
		in.FilterExpression = aws.String(strings.Join(conds, " AND "))
	}
	pos := position{index: "GSI2", pk: orgListPK(orgID, listBindings), entity: skBinding}
	return listPage(ctx, s, in, orgID, pos, limit, after, func(it bindingItem) eval.Binding { return it.domain() })
}

// BindingsFor returns every binding of an agent and of a scenario ("" for
// none).
func (s *Store) BindingsFor(ctx context.Context, orgID, agentID, scenarioID string) ([]eval.Binding, error) {
	var out []eval.Binding
	for _, t := range [][2]string{{eval.ScopeAgent, agentID}, {eval.ScopeScenario, scenarioID}} {
		if t[1] == "" {
			continue
		}
		err := s.queryAll(ctx, &dynamodb.QueryInput{
			TableName: &s.table, IndexName: aws.String(idxByParent),
			KeyConditionExpression:    aws.String("GSI1PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(targetPK(orgID, t[0], t[1]))},
		}, func(m map[string]types.AttributeValue) error {
			var it bindingItem
			if err := attributevalue.UnmarshalMap(m, &it); err != nil {
				return fmt.Errorf("decode binding: %w", err)
			}
			out = append(out, it.domain())
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("bindings of %s %s: %w", t[0], t[1], err)
		}
	}
	return out, nil
}

// GetEvalConfig returns an agent's eval config, the default when unset.
func (s *Store) GetEvalConfig(ctx context.Context, orgID, agentID string) (eval.EvalConfig, error) {
	var it evalConfigItem
	err := s.get(ctx, evalConfigKey(orgID, agentID), &it)
	if errors.Is(err, eval.ErrNotFound) {
		return eval.DefaultEvalConfig, nil
	}
	if err != nil {
		return eval.EvalConfig{}, fmt.Errorf("get eval config of %s: %w", agentID, translate(err))
	}
	return eval.EvalConfig{EvaluateLive: it.EvaluateLive, EvaluateTest: it.EvaluateTest}, nil
}

// UpdateEvalConfig changes the fields given (nil leaves a field as is) and
// returns the result.
func (s *Store) UpdateEvalConfig(ctx context.Context, orgID, agentID string, live, test *bool) (eval.EvalConfig, error) {
	pick := func(p *bool) types.AttributeValue {
		if p == nil {
			return nil
		}
		return av(*p)
	}
	vals := map[string]types.AttributeValue{":dlive": av(eval.DefaultEvalConfig.EvaluateLive), ":dtest": av(eval.DefaultEvalConfig.EvaluateTest)}
	expr := "SET evaluate_live = if_not_exists(evaluate_live, :dlive), evaluate_test = if_not_exists(evaluate_test, :dtest)"
	if v := pick(live); v != nil {
		vals[":live"] = v
		expr = "SET evaluate_live = :live, evaluate_test = if_not_exists(evaluate_test, :dtest)"
		delete(vals, ":dlive")
	}
	if v := pick(test); v != nil {
		vals[":test"] = v
		if live != nil {
			expr = "SET evaluate_live = :live, evaluate_test = :test"
			delete(vals, ":dtest")
		} else {
			expr = "SET evaluate_live = if_not_exists(evaluate_live, :dlive), evaluate_test = :test"
			delete(vals, ":dtest")
		}
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: evalConfigKey(orgID, agentID).av(), UpdateExpression: aws.String(expr),
		ExpressionAttributeValues: vals, ReturnValues: types.ReturnValueAllNew,
	})
	if err != nil {
		return eval.EvalConfig{}, fmt.Errorf("update eval config of %s: %w", agentID, translate(err))
	}
	var it evalConfigItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return eval.EvalConfig{}, fmt.Errorf("decode eval config: %w", err)
	}
	return eval.EvalConfig{EvaluateLive: it.EvaluateLive, EvaluateTest: it.EvaluateTest}, nil
}

func orgListQuery(table, orgID, entity string) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		TableName: &table, IndexName: aws.String(idxByOrg), ScanIndexForward: aws.Bool(false),
		KeyConditionExpression:    aws.String("GSI2PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(orgListPK(orgID, entity))},
	}
}

// listPage reads one page of limit items after the cursor, following the
// query past filtered-out items, and returns the next cursor.
func listPage[I any, T any](ctx context.Context, s *Store, in *dynamodb.QueryInput, orgID string, pos position, limit int, after string, conv func(I) T) ([]T, string, error) {
	start, err := decodeCursor(orgID, after, pos)
	if err != nil {
		return nil, "", err
	}
	in.ExclusiveStartKey = start
	in.Limit = aws.Int32(int32(limit + 1))
	var items []map[string]types.AttributeValue
	scanned := 0
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, "", translate(err)
		}
		scanned += int(out.ScannedCount)
		items = append(items, out.Items...)
		if len(items) > limit || out.LastEvaluatedKey == nil || scanned >= maxScanned {
			var next string
			switch {
			case len(items) > limit:
				items = items[:limit]
				next = encodeCursor(orgID, items[limit-1], pos)
			case out.LastEvaluatedKey != nil:
				next = encodeCursor(orgID, out.LastEvaluatedKey, pos)
			}
			res := make([]T, 0, len(items))
			for _, m := range items {
				var it I
				if err := attributevalue.UnmarshalMap(m, &it); err != nil {
					return nil, "", fmt.Errorf("decode: %w", err)
				}
				res = append(res, conv(it))
			}
			return res, next, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}
