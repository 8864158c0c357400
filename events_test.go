package plume

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
)

func TestEmbedded(t *testing.T) {
	t.Parallel()
	if !bytes.Contains(Template, []byte("Transform: AWS::Serverless-2016-10-31")) {
		t.Error("Template does not look like the SAM template")
	}
	if !json.Valid(OpenAPI) {
		t.Error("OpenAPI is not valid JSON")
	}
}

// decodeStrict decodes b into v, rejecting fields the aws-lambda-go type does not know: a
// fixture with a misspelt field would otherwise pass while the real event differs.
func decodeStrict(t *testing.T, b []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode: %v", err)
	}
}

// roundTrip checks that marshalling v and decoding it again gives the same value, as the
// testdata tests of aws-lambda-go do.
func roundTrip[T any](t *testing.T, v T) {
	t.Helper()
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var again T
	if err := json.Unmarshal(out, &again); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(v, again); diff != "" {
		t.Errorf("JSON round trip (-before +after):\n%s", diff)
	}
}

var (
	lowerHeader = regexp.MustCompile(`^[a-z0-9-]+$`)
	uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	noAuth      = map[string]bool{"/healthz": true, "/openapi.json": true}
	methods     = map[string]bool{"GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true}
)

func TestEvents(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("events/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no events: %v", err)
	}
	readme, err := os.ReadFile("events/README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if !bytes.Contains(readme, []byte("`"+name+"`")) {
				t.Errorf("events/README.md does not list %s", name)
			}
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case strings.HasPrefix(name, "sqs-"):
				checkSQS(t, name, b)
			case name == "schedule.json":
				checkSchedule(t, b)
			default:
				checkHTTP(t, b)
			}
		})
	}
}

func checkHTTP(t *testing.T, b []byte) {
	var ev events.APIGatewayV2HTTPRequest
	decodeStrict(t, b, &ev)
	roundTrip(t, ev)

	rc := ev.RequestContext
	if ev.Version != "2.0" || ev.RouteKey != "$default" || rc.RouteKey != "$default" || rc.Stage != "$default" {
		t.Errorf("version %q routeKey %q/%q stage %q; want 2.0, $default, $default", ev.Version, ev.RouteKey, rc.RouteKey, rc.Stage)
	}
	if !methods[rc.HTTP.Method] {
		t.Errorf("http.method = %q", rc.HTTP.Method)
	}
	if !strings.HasPrefix(ev.RawPath, "/") || rc.HTTP.Path != ev.RawPath {
		t.Errorf("rawPath %q, http.path %q; want equal, starting with /", ev.RawPath, rc.HTTP.Path)
	}
	if rc.RequestID == "" || rc.TimeEpoch == 0 || rc.HTTP.SourceIP == "" || rc.HTTP.UserAgent == "" {
		t.Errorf("requestContext lacks requestId, timeEpoch, sourceIp or userAgent: %+v", rc)
	}
	if ev.IsBase64Encoded {
		t.Error("isBase64Encoded = true; want a plain string body")
	}
	for k := range ev.Headers {
		if !lowerHeader.MatchString(k) {
			t.Errorf("header %q is not lower-case (HTTP API delivers lower-case names)", k)
		}
	}
	if key := ev.Headers["x-api-key"]; key != "plume-dev-key" && !noAuth[ev.RawPath] {
		t.Errorf("x-api-key = %q; want plume-dev-key", key)
	}

	q, err := url.ParseQuery(ev.RawQueryString)
	if err != nil {
		t.Fatalf("rawQueryString: %v", err)
	}
	got := map[string]string{}
	for k, v := range q {
		got[k] = strings.Join(v, ",")
	}
	if len(got) == 0 {
		got = nil
	}
	if diff := cmp.Diff(got, ev.QueryStringParameters); diff != "" {
		t.Errorf("queryStringParameters do not match rawQueryString (-raw +params):\n%s", diff)
	}

	if ev.Body != "" {
		if !json.Valid([]byte(ev.Body)) {
			t.Errorf("body is not JSON: %s", ev.Body)
		}
		if ev.Headers["content-type"] != "application/json" {
			t.Errorf("content-type = %q; want application/json", ev.Headers["content-type"])
		}
	}
	if n := ev.Headers["content-length"]; n != "" && n != strconv.Itoa(len(ev.Body)) {
		t.Errorf("content-length = %s; body has %d bytes", n, len(ev.Body))
	}
}

func checkSQS(t *testing.T, name string, b []byte) {
	var ev events.SQSEvent
	decodeStrict(t, b, &ev)
	roundTrip(t, ev)
	if len(ev.Records) == 0 {
		t.Fatal("no records")
	}
	for i, r := range ev.Records {
		if r.EventSource != "aws:sqs" || r.MessageId == "" || r.ReceiptHandle == "" || r.AWSRegion == "" {
			t.Errorf("record %d: eventSource, messageId, receiptHandle or awsRegion missing", i)
		}
		dlq := strings.HasSuffix(r.EventSourceARN, "-dlq")
		if !strings.HasPrefix(r.EventSourceARN, "arn:aws:sqs:") || dlq != (name == "sqs-dlq.json") {
			t.Errorf("record %d: eventSourceARN %q (dead-letter: %v)", i, r.EventSourceARN, dlq)
		}
		if sum := md5.Sum([]byte(r.Body)); hex.EncodeToString(sum[:]) != r.Md5OfBody {
			t.Errorf("record %d: md5OfBody does not match the body", i)
		}
		if r.Attributes["ApproximateReceiveCount"] == "" {
			t.Errorf("record %d: no ApproximateReceiveCount", i)
		}
		// The queue message of docs/architecture.md.
		var m struct {
			V              int    `json:"v"`
			Kind           string `json:"kind"`
			OrganizationID string `json:"organization_id"`
			SessionID      string `json:"session_id"`
			TaskID         string `json:"task_id"`
			RunID          string `json:"run_id"`
		}
		decodeStrict(t, []byte(r.Body), &m)
		ids := []string{m.OrganizationID, m.SessionID, m.TaskID}
		switch m.Kind {
		case "retry":
			ids = append(ids, m.RunID)
		case "reevaluate":
			if m.RunID != "" {
				t.Errorf("record %d: reevaluate message with run_id", i)
			}
		default:
			t.Errorf("record %d: kind %q", i, m.Kind)
		}
		for _, id := range ids {
			if !uuidPattern.MatchString(id) {
				t.Errorf("record %d: id %q is not a UUID", i, id)
			}
		}
		if m.V != 1 {
			t.Errorf("record %d: v = %d; want 1", i, m.V)
		}
	}
}

func checkSchedule(t *testing.T, b []byte) {
	var ev events.EventBridgeEvent
	decodeStrict(t, b, &ev)
	roundTrip(t, ev)
	if ev.Source != "aws.events" || ev.DetailType != "Scheduled Event" || ev.Time.IsZero() || len(ev.Resources) != 1 {
		t.Errorf("not a scheduled event: %+v", ev)
	}
}
