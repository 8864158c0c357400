package devstack

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// readTemplate reads the repository's template.yaml, the file that is deployed.
func readTemplate(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var ignoreSDK = cmpopts.IgnoreUnexported(
	dynamodb.CreateTableInput{}, ddbtypes.AttributeDefinition{}, ddbtypes.KeySchemaElement{},
	ddbtypes.GlobalSecondaryIndex{}, ddbtypes.Projection{},
)

func key(name string, typ ddbtypes.KeyType) ddbtypes.KeySchemaElement {
	return ddbtypes.KeySchemaElement{AttributeName: aws.String(name), KeyType: typ}
}

func wantTable(name string) *dynamodb.CreateTableInput {
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: ddbtypes.BillingModePayPerRequest,
		KeySchema:   []ddbtypes.KeySchemaElement{key("PK", ddbtypes.KeyTypeHash), key("SK", ddbtypes.KeyTypeRange)},
	}
	for _, a := range []string{"PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK"} {
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{
			AttributeName: aws.String(a), AttributeType: ddbtypes.ScalarAttributeTypeS,
		})
	}
	for _, g := range []string{"GSI1", "GSI2", "GSI3"} {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, ddbtypes.GlobalSecondaryIndex{
			IndexName:  aws.String(g),
			KeySchema:  []ddbtypes.KeySchemaElement{key(g+"PK", ddbtypes.KeyTypeHash), key(g+"SK", ddbtypes.KeyTypeRange)},
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeAll},
		})
	}
	return in
}

func TestTemplateResources(t *testing.T) {
	t.Parallel()
	tpl := readTemplate(t)

	got, err := TableInput(tpl, "plume-test")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantTable("plume-test"), got, ignoreSDK); diff != "" {
		t.Errorf("TableInput (-want +got):\n%s", diff)
	}

	ttl, err := TimeToLiveAttribute(tpl)
	if err != nil || ttl != "expires_at" {
		t.Errorf("TimeToLiveAttribute = %q, %v; want expires_at", ttl, err)
	}

	n, err := MaxReceiveCount(tpl)
	if err != nil || n < 5 {
		t.Errorf("MaxReceiveCount = %d, %v; want >= 5", n, err)
	}

	for _, tc := range []struct {
		id   string
		want map[string]string
	}{
		{QueueID, map[string]string{"VisibilityTimeout": "900", "MessageRetentionPeriod": "345600"}},
		{DeadQueueID, map[string]string{"VisibilityTimeout": "900", "MessageRetentionPeriod": "1209600"}},
	} {
		got, err := QueueAttributes(tpl, tc.id)
		if err != nil {
			t.Fatalf("QueueAttributes(%s): %v", tc.id, err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("QueueAttributes(%s) (-want +got):\n%s", tc.id, diff)
		}
	}
}

// The numbers the serverless rules tie together: visibility >= 6 x worker timeout.
func TestTemplateVisibilityCoversWorkerTimeout(t *testing.T) {
	t.Parallel()
	p, err := parseTemplate(readTemplate(t))
	if err != nil {
		t.Fatal(err)
	}
	props, err := p.properties("EvalWorkerFunction")
	if err != nil {
		t.Fatal(err)
	}
	timeout, err := p.str(props, "Timeout")
	if err != nil {
		t.Fatal(err)
	}
	fn, _ := strconv.Atoi(timeout)
	for _, id := range []string{QueueID, DeadQueueID} {
		attrs, err := QueueAttributes(readTemplate(t), id)
		if err != nil {
			t.Fatal(err)
		}
		vis, _ := strconv.Atoi(attrs["VisibilityTimeout"])
		if fn <= 0 || vis < 6*fn {
			t.Errorf("%s VisibilityTimeout %d < 6 x worker Timeout %d", id, vis, fn)
		}
	}
}

func TestTemplateErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, tpl, want string
		call            func([]byte) error
	}{
		{
			name: "not yaml", tpl: "Resources: [", want: "template:",
			call: func(b []byte) error { _, err := TableInput(b, "x"); return err },
		},
		{
			name: "no table", tpl: "Resources:\n  Other:\n    Type: X\n", want: "no resource Table",
			call: func(b []byte) error { _, err := TableInput(b, "x"); return err },
		},
		{
			name: "unresolvable intrinsic",
			tpl:  "Resources:\n  EvalQueue:\n    Type: AWS::SQS::Queue\n    Properties:\n      VisibilityTimeout: !GetAtt X.Y\n",
			want: "intrinsic GetAtt cannot be resolved",
			call: func(b []byte) error { _, err := QueueAttributes(b, QueueID); return err },
		},
		{
			name: "missing mapping key",
			tpl:  "Mappings:\n  M:\n    A:\n      B: 1\nResources:\n  EvalQueue:\n    Type: AWS::SQS::Queue\n    Properties:\n      RedrivePolicy:\n        maxReceiveCount: !FindInMap [M, A, C]\n",
			want: "no key C",
			call: func(b []byte) error { _, err := MaxReceiveCount(b); return err },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.call([]byte(tc.tpl))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v; want it to contain %q", err, tc.want)
			}
		})
	}
}

// Long-form intrinsics and parameter defaults resolve like short tags.
func TestTemplateLongForm(t *testing.T) {
	t.Parallel()
	tpl := []byte(`{
  "Parameters": {"Vis": {"Type": "Number", "Default": 60}},
  "Mappings": {"L": {"Q": {"Max": 7}}},
  "Resources": {"EvalQueue": {"Type": "AWS::SQS::Queue", "Properties": {
    "VisibilityTimeout": {"Ref": "Vis"},
    "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["D", "Arn"]}, "maxReceiveCount": {"Fn::FindInMap": ["L", "Q", "Max"]}}}}}}`)
	attrs, err := QueueAttributes(tpl, QueueID)
	if err != nil || attrs["VisibilityTimeout"] != "60" {
		t.Errorf("QueueAttributes = %v, %v; want VisibilityTimeout 60", attrs, err)
	}
	if n, err := MaxReceiveCount(tpl); err != nil || n != 7 {
		t.Errorf("MaxReceiveCount = %d, %v; want 7", n, err)
	}
}

// TestCreateResources creates the stack's resources on a real moto server and reads them back.
func TestCreateResources(t *testing.T) {
	t.Parallel()
	endpoint := startMoto(t)
	ctx := context.Background()
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	}
	ddb := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
	sqsc := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(endpoint) })
	tpl := readTemplate(t)

	res, err := CreateResources(ctx, ddb, sqsc, tpl, "plume-test")
	if err != nil {
		t.Fatal(err)
	}
	again, err := CreateResources(ctx, ddb, sqsc, tpl, "plume-test")
	if err != nil {
		t.Fatalf("second CreateResources (must be idempotent): %v", err)
	}
	if again != res {
		t.Errorf("second CreateResources = %+v; want %+v", again, res)
	}
	if res.Table != "plume-test" || res.QueueURL == "" || res.DLQURL == "" || !strings.HasPrefix(res.DLQARN, "arn:aws:sqs:us-east-1:") {
		t.Errorf("Resources = %+v", res)
	}

	desc, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(res.Table)})
	if err != nil {
		t.Fatal(err)
	}
	want := wantTable(res.Table)
	td := desc.Table
	got := &dynamodb.CreateTableInput{
		TableName:            td.TableName,
		KeySchema:            td.KeySchema,
		AttributeDefinitions: td.AttributeDefinitions,
	}
	if td.BillingModeSummary != nil {
		got.BillingMode = td.BillingModeSummary.BillingMode
	}
	for _, g := range td.GlobalSecondaryIndexes {
		got.GlobalSecondaryIndexes = append(got.GlobalSecondaryIndexes, ddbtypes.GlobalSecondaryIndex{
			IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection,
		})
	}
	byName := func(a, b ddbtypes.AttributeDefinition) bool { return *a.AttributeName < *b.AttributeName }
	if diff := cmp.Diff(want, got, ignoreSDK, cmpopts.SortSlices(byName)); diff != "" {
		t.Errorf("DescribeTable (-template +moto):\n%s", diff)
	}

	ttl, err := ddb.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(res.Table)})
	if err != nil {
		t.Fatal(err)
	}
	if d := ttl.TimeToLiveDescription; d == nil || d.TimeToLiveStatus != ddbtypes.TimeToLiveStatusEnabled || aws.ToString(d.AttributeName) != "expires_at" {
		t.Errorf("TimeToLive = %+v; want expires_at ENABLED", d)
	}

	maxReceive, _ := MaxReceiveCount(tpl)
	for _, tc := range []struct {
		url     string
		id      string
		redrive bool
	}{{res.QueueURL, QueueID, true}, {res.DLQURL, DeadQueueID, false}} {
		out, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl: aws.String(tc.url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
		})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := QueueAttributes(tpl, tc.id)
		for k, v := range want {
			if out.Attributes[k] != v {
				t.Errorf("%s %s = %q; want %q", tc.id, k, out.Attributes[k], v)
			}
		}
		rp, ok := out.Attributes["RedrivePolicy"]
		if ok != tc.redrive {
			t.Fatalf("%s RedrivePolicy present = %v; want %v", tc.id, ok, tc.redrive)
		}
		if !ok {
			continue
		}
		var got struct {
			DeadLetterTargetARN string          `json:"deadLetterTargetArn"`
			MaxReceiveCount     json.RawMessage `json:"maxReceiveCount"`
		}
		if err := json.Unmarshal([]byte(rp), &got); err != nil {
			t.Fatalf("RedrivePolicy %s: %v", rp, err)
		}
		if n, _ := strconv.Atoi(strings.Trim(string(got.MaxReceiveCount), `"`)); got.DeadLetterTargetARN != res.DLQARN || n != maxReceive {
			t.Errorf("RedrivePolicy = %s; want target %s, maxReceiveCount %d", rp, res.DLQARN, maxReceive)
		}
	}

	if _, err := CreateResources(ctx, ddb, sqsc, tpl, "bad name!"); err == nil {
		t.Error("CreateResources with an invalid prefix: want an error")
	}
}

// startMoto starts this test's own moto server (the same launcher as make
// dev's) and returns its URL.
func startMoto(t *testing.T) string {
	t.Helper()
	m, err := StartMoto("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	return m.URL
}
