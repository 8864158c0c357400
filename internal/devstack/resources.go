// Package devstack runs Plume on one machine with no AWS account. This file is the single
// source of truth for local resources: the table and queues are built from the same
// template.yaml that is deployed, so local and deployed definitions cannot drift.
package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.yaml.in/yaml/v4"
)

// Logical ids of the template resources the local stack recreates.
const (
	TableID     = "Table"
	QueueID     = "EvalQueue"
	DeadQueueID = "EvalDeadLetterQueue"
)

// Resources names what CreateResources made: the table and both queues.
type Resources struct {
	Table    string // DynamoDB table name (PLUME_TABLE)
	QueueURL string // eval queue URL (PLUME_QUEUE_URL)
	DLQURL   string // dead-letter queue URL
	DLQARN   string // dead-letter queue ARN (PLUME_DLQ_ARN)
}

// TableInput builds the CreateTable request for the template's Table resource: attribute
// definitions, key schema, global and local secondary indexes and billing mode. Properties
// that do not shape the data (encryption, point-in-time recovery, deletion protection, tags)
// are ignored; TimeToLiveSpecification is applied by CreateResources.
func TableInput(template []byte, tableName string) (*dynamodb.CreateTableInput, error) {
	t, err := parseTemplate(template)
	if err != nil {
		return nil, err
	}
	props, err := t.properties(TableID)
	if err != nil {
		return nil, err
	}
	in := &dynamodb.CreateTableInput{TableName: aws.String(tableName)}

	defs, err := t.seq(props, "AttributeDefinitions")
	if err != nil {
		return nil, err
	}
	for _, d := range defs {
		name, err := t.str(d, "AttributeName")
		if err != nil {
			return nil, err
		}
		typ, err := t.str(d, "AttributeType")
		if err != nil {
			return nil, err
		}
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{
			AttributeName: aws.String(name),
			AttributeType: ddbtypes.ScalarAttributeType(typ),
		})
	}
	if in.KeySchema, err = t.keySchema(props); err != nil {
		return nil, err
	}

	billing := string(ddbtypes.BillingModeProvisioned)
	if n := lookup(props, "BillingMode"); n != nil {
		if billing, err = t.scalar(n, "BillingMode"); err != nil {
			return nil, err
		}
	}
	in.BillingMode = ddbtypes.BillingMode(billing)
	if in.ProvisionedThroughput, err = t.throughput(props); err != nil {
		return nil, err
	}

	gsis, err := t.optSeq(props, "GlobalSecondaryIndexes")
	if err != nil {
		return nil, err
	}
	for _, g := range gsis {
		name, keys, proj, err := t.index(g)
		if err != nil {
			return nil, err
		}
		pt, err := t.throughput(g)
		if err != nil {
			return nil, err
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, ddbtypes.GlobalSecondaryIndex{
			IndexName: aws.String(name), KeySchema: keys, Projection: proj, ProvisionedThroughput: pt,
		})
	}
	lsis, err := t.optSeq(props, "LocalSecondaryIndexes")
	if err != nil {
		return nil, err
	}
	for _, l := range lsis {
		name, keys, proj, err := t.index(l)
		if err != nil {
			return nil, err
		}
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, ddbtypes.LocalSecondaryIndex{
			IndexName: aws.String(name), KeySchema: keys, Projection: proj,
		})
	}
	return in, nil
}

// TimeToLiveAttribute returns the TTL attribute of the template's Table resource, or "" when
// TTL is not enabled.
func TimeToLiveAttribute(template []byte) (string, error) {
	t, err := parseTemplate(template)
	if err != nil {
		return "", err
	}
	props, err := t.properties(TableID)
	if err != nil {
		return "", err
	}
	spec := lookup(props, "TimeToLiveSpecification")
	if spec == nil {
		return "", nil
	}
	enabled, err := t.str(spec, "Enabled")
	if err != nil {
		return "", err
	}
	on, err := strconv.ParseBool(enabled)
	if err != nil {
		return "", fmt.Errorf("template: TimeToLiveSpecification.Enabled %q: %w", enabled, err)
	}
	if !on {
		return "", nil
	}
	return t.str(spec, "AttributeName")
}

// queueAttributes lists the AWS::SQS::Queue properties that are also CreateQueue attributes
// of the same name. RedrivePolicy is left to the caller, which knows the dead-letter ARN.
var queueAttributes = []string{
	"DelaySeconds",
	"MaximumMessageSize",
	"MessageRetentionPeriod",
	"ReceiveMessageWaitTimeSeconds",
	"VisibilityTimeout",
	"FifoQueue",
	"ContentBasedDeduplication",
}

// QueueAttributes returns the CreateQueue attributes (VisibilityTimeout,
// MessageRetentionPeriod, …) of the template's queue with the given logical id (EvalQueue or
// EvalDeadLetterQueue). The RedrivePolicy is not included: build it from the dead-letter ARN
// and MaxReceiveCount.
func QueueAttributes(template []byte, logicalID string) (map[string]string, error) {
	t, err := parseTemplate(template)
	if err != nil {
		return nil, err
	}
	props, err := t.properties(logicalID)
	if err != nil {
		return nil, err
	}
	attrs := make(map[string]string)
	for _, name := range queueAttributes {
		n := lookup(props, name)
		if n == nil {
			continue
		}
		v, err := t.scalar(n, logicalID+"."+name)
		if err != nil {
			return nil, err
		}
		attrs[name] = v
	}
	return attrs, nil
}

// MaxReceiveCount returns the maxReceiveCount of EvalQueue's RedrivePolicy: the deliveries
// before a message moves to the dead-letter queue.
func MaxReceiveCount(template []byte) (int, error) {
	t, err := parseTemplate(template)
	if err != nil {
		return 0, err
	}
	props, err := t.properties(QueueID)
	if err != nil {
		return 0, err
	}
	rp := lookup(props, "RedrivePolicy")
	if rp == nil {
		return 0, fmt.Errorf("template: %s has no RedrivePolicy", QueueID)
	}
	s, err := t.str(rp, "maxReceiveCount")
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("template: %s maxReceiveCount %q is not a positive integer", QueueID, s)
	}
	return n, nil
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{3,60}$`)

// CreateResources creates, from the template, the table named prefix (with its TTL) and the
// queues prefix-eval-dlq and prefix-eval (the latter with a RedrivePolicy to the former). It is
// idempotent: resources that already exist with the same definition are reused, so a dev
// stack can restart against a long-lived emulator.
func CreateResources(ctx context.Context, ddb *dynamodb.Client, sqsc *sqs.Client, template []byte, prefix string) (Resources, error) {
	if !namePattern.MatchString(prefix) {
		return Resources{}, fmt.Errorf("create resources: prefix %q: want 3-60 of [A-Za-z0-9_-]", prefix)
	}
	res := Resources{Table: prefix}
	if err := createTable(ctx, ddb, template, res.Table); err != nil {
		return Resources{}, err
	}

	dlqAttrs, err := QueueAttributes(template, DeadQueueID)
	if err != nil {
		return Resources{}, err
	}
	if res.DLQURL, err = createQueue(ctx, sqsc, prefix+"-eval-dlq", dlqAttrs); err != nil {
		return Resources{}, err
	}
	out, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(res.DLQURL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return Resources{}, fmt.Errorf("get dead-letter queue arn: %w", err)
	}
	res.DLQARN = out.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	if res.DLQARN == "" {
		return Resources{}, errors.New("get dead-letter queue arn: empty QueueArn")
	}

	attrs, err := QueueAttributes(template, QueueID)
	if err != nil {
		return Resources{}, err
	}
	maxReceive, err := MaxReceiveCount(template)
	if err != nil {
		return Resources{}, err
	}
	redrive, err := json.Marshal(struct {
		DeadLetterTargetARN string `json:"deadLetterTargetArn"`
		MaxReceiveCount     int    `json:"maxReceiveCount"`
	}{res.DLQARN, maxReceive})
	if err != nil {
		return Resources{}, err
	}
	attrs[string(sqstypes.QueueAttributeNameRedrivePolicy)] = string(redrive)
	if res.QueueURL, err = createQueue(ctx, sqsc, prefix+"-eval", attrs); err != nil {
		return Resources{}, err
	}
	return res, nil
}

func createTable(ctx context.Context, ddb *dynamodb.Client, template []byte, name string) error {
	in, err := TableInput(template, name)
	if err != nil {
		return err
	}
	_, err = ddb.CreateTable(ctx, in)
	var inUse *ddbtypes.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	// Real DynamoDB creates tables asynchronously; emulators answer ACTIVE at once.
	if err := dynamodb.NewTableExistsWaiter(ddb).Wait(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName}, 2*time.Minute); err != nil {
		return fmt.Errorf("wait for table %s: %w", name, err)
	}

	attr, err := TimeToLiveAttribute(template)
	if err != nil || attr == "" {
		return err
	}
	ttl, err := ddb.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: in.TableName})
	if err != nil {
		return fmt.Errorf("describe ttl of %s: %w", name, err)
	}
	if d := ttl.TimeToLiveDescription; d != nil && d.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabled && aws.ToString(d.AttributeName) == attr {
		return nil
	}
	_, err = ddb.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               in.TableName,
		TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String(attr), Enabled: aws.Bool(true)},
	})
	if err != nil {
		return fmt.Errorf("enable ttl %s on %s: %w", attr, name, err)
	}
	return nil
}

func createQueue(ctx context.Context, sqsc *sqs.Client, name string, attrs map[string]string) (string, error) {
	out, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		return "", fmt.Errorf("create queue %s: %w", name, err)
	}
	return aws.ToString(out.QueueUrl), nil
}

// template is a parsed CloudFormation template. Values may be literals, or !FindInMap and
// !Ref to a parameter's Default, which it resolves; any other intrinsic is an error because
// the local stack cannot evaluate it.
type template struct {
	resources  *yaml.Node
	mappings   *yaml.Node
	parameters *yaml.Node
}

func parseTemplate(b []byte) (*template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("template: not a YAML mapping")
	}
	root := doc.Content[0]
	t := &template{
		resources:  lookup(root, "Resources"),
		mappings:   lookup(root, "Mappings"),
		parameters: lookup(root, "Parameters"),
	}
	if t.resources == nil || t.resources.Kind != yaml.MappingNode {
		return nil, errors.New("template: no Resources")
	}
	return t, nil
}

// properties returns the Properties mapping of a resource.
func (t *template) properties(logicalID string) (*yaml.Node, error) {
	r := lookup(t.resources, logicalID)
	if r == nil {
		return nil, fmt.Errorf("template: no resource %s", logicalID)
	}
	p := lookup(r, "Properties")
	if p == nil || p.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("template: resource %s has no Properties", logicalID)
	}
	return p, nil
}

// lookup returns the value of key in mapping m, or nil.
func lookup(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return resolveAlias(m.Content[i+1])
		}
	}
	return nil
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func (t *template) str(m *yaml.Node, key string) (string, error) {
	n := lookup(m, key)
	if n == nil {
		return "", fmt.Errorf("template: missing %s (line %d)", key, m.Line)
	}
	return t.scalar(n, key)
}

func (t *template) seq(m *yaml.Node, key string) ([]*yaml.Node, error) {
	n := lookup(m, key)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("template: %s must be a list (line %d)", key, m.Line)
	}
	return n.Content, nil
}

func (t *template) optSeq(m *yaml.Node, key string) ([]*yaml.Node, error) {
	if lookup(m, key) == nil {
		return nil, nil
	}
	return t.seq(m, key)
}

// scalar resolves n to a string: a plain scalar, !FindInMap / Fn::FindInMap into Mappings, or
// !Ref / Ref to a parameter with a Default.
func (t *template) scalar(n *yaml.Node, what string) (string, error) {
	n = resolveAlias(n)
	fn, arg := intrinsic(n)
	switch fn {
	case "":
		if n.Kind != yaml.ScalarNode {
			return "", fmt.Errorf("template: %s is not a scalar (line %d)", what, n.Line)
		}
		return n.Value, nil
	case "Ref":
		name, err := t.scalar(arg, what)
		if err != nil {
			return "", err
		}
		p := lookup(t.parameters, name)
		if p == nil {
			return "", fmt.Errorf("template: %s: Ref %s is not a parameter (line %d)", what, name, n.Line)
		}
		d := lookup(p, "Default")
		if d == nil {
			return "", fmt.Errorf("template: %s: parameter %s has no Default (line %d)", what, name, n.Line)
		}
		return t.scalar(d, what)
	case "FindInMap":
		if arg.Kind != yaml.SequenceNode || len(arg.Content) != 3 {
			return "", fmt.Errorf("template: %s: FindInMap wants [map, top key, second key] (line %d)", what, n.Line)
		}
		v := t.mappings
		for _, k := range arg.Content {
			key, err := t.scalar(k, what)
			if err != nil {
				return "", err
			}
			if v = lookup(v, key); v == nil {
				return "", fmt.Errorf("template: %s: FindInMap: no key %s in Mappings (line %d)", what, key, n.Line)
			}
		}
		return t.scalar(v, what)
	default:
		return "", fmt.Errorf("template: %s: intrinsic %s cannot be resolved locally (line %d)", what, fn, n.Line)
	}
}

// intrinsic reports the CloudFormation function of n ("Ref", "FindInMap", "GetAtt", …) and
// its argument, in either the short-tag form (!FindInMap [...]) or the long form
// ({"Fn::FindInMap": [...]}). It returns "" for a plain value.
func intrinsic(n *yaml.Node) (string, *yaml.Node) {
	if len(n.Tag) > 1 && n.Tag[0] == '!' && n.Tag[1] != '!' {
		return n.Tag[1:], n
	}
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 {
		switch k := n.Content[0].Value; {
		case k == "Ref":
			return k, n.Content[1]
		case len(k) > 4 && k[:4] == "Fn::":
			return k[4:], n.Content[1]
		}
	}
	return "", nil
}

func (t *template) keySchema(m *yaml.Node) ([]ddbtypes.KeySchemaElement, error) {
	keys, err := t.seq(m, "KeySchema")
	if err != nil {
		return nil, err
	}
	var out []ddbtypes.KeySchemaElement
	for _, k := range keys {
		name, err := t.str(k, "AttributeName")
		if err != nil {
			return nil, err
		}
		typ, err := t.str(k, "KeyType")
		if err != nil {
			return nil, err
		}
		out = append(out, ddbtypes.KeySchemaElement{AttributeName: aws.String(name), KeyType: ddbtypes.KeyType(typ)})
	}
	return out, nil
}

func (t *template) index(m *yaml.Node) (string, []ddbtypes.KeySchemaElement, *ddbtypes.Projection, error) {
	name, err := t.str(m, "IndexName")
	if err != nil {
		return "", nil, nil, err
	}
	keys, err := t.keySchema(m)
	if err != nil {
		return "", nil, nil, err
	}
	p := lookup(m, "Projection")
	if p == nil {
		return "", nil, nil, fmt.Errorf("template: index %s has no Projection", name)
	}
	typ, err := t.str(p, "ProjectionType")
	if err != nil {
		return "", nil, nil, err
	}
	proj := &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionType(typ)}
	attrs, err := t.optSeq(p, "NonKeyAttributes")
	if err != nil {
		return "", nil, nil, err
	}
	for _, a := range attrs {
		s, err := t.scalar(a, "NonKeyAttributes")
		if err != nil {
			return "", nil, nil, err
		}
		proj.NonKeyAttributes = append(proj.NonKeyAttributes, s)
	}
	return name, keys, proj, nil
}

func (t *template) throughput(m *yaml.Node) (*ddbtypes.ProvisionedThroughput, error) {
	p := lookup(m, "ProvisionedThroughput")
	if p == nil {
		return nil, nil
	}
	var units [2]int64
	for i, key := range []string{"ReadCapacityUnits", "WriteCapacityUnits"} {
		s, err := t.str(p, key)
		if err != nil {
			return nil, err
		}
		if units[i], err = strconv.ParseInt(s, 10, 64); err != nil {
			return nil, fmt.Errorf("template: %s %q: %w", key, s, err)
		}
	}
	return &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(units[0]), WriteCapacityUnits: aws.Int64(units[1])}, nil
}
