// Package queue is Plume's SQS adapter: it owns the message body that goes
// from the API to the workers, and sends it.
package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/uuid"

	"github.com/plume-evals/plume/internal/eval"
)

// Version is the message body version this code writes and reads.
const Version = 1

// Message is the body of one queue message: one task to run.
type Message struct {
	V         int    `json:"v"`
	Kind      string `json:"kind"`
	OrgID     string `json:"organization_id"`
	SessionID string `json:"session_id"`
	TaskID    string `json:"task_id"`
	RunID     string `json:"run_id,omitempty"`
}

// ErrBadMessage is returned for a body that is not a valid Message. Such a
// message can never succeed, so the worker drops it (and logs it).
var ErrBadMessage = errors.New("bad queue message")

// maxBody bounds what Decode reads; a real body is about 200 bytes.
const maxBody = 4096

// FromTask returns the message of a task.
func FromTask(t eval.Task) Message {
	m := Message{V: Version, Kind: t.Kind, OrgID: t.OrgID, SessionID: t.SessionID, TaskID: t.ID}
	if t.Kind == eval.TaskRetry {
		m.RunID = t.RunID
	}
	return m
}

// Encode returns the JSON body of m.
func (m Message) Encode() string {
	b, _ := json.Marshal(m) // strings only: cannot fail
	return string(b)
}

// Decode parses and validates a message body strictly: unknown fields, a
// wrong version, a bad kind or an id that is not a UUID are ErrBadMessage.
func Decode(body string) (Message, error) {
	if len(body) > maxBody {
		return Message{}, fmt.Errorf("%w: body of %d bytes", ErrBadMessage, len(body))
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	var m Message
	if err := dec.Decode(&m); err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	if dec.More() {
		return Message{}, fmt.Errorf("%w: trailing data", ErrBadMessage)
	}
	if m.V != Version {
		return Message{}, fmt.Errorf("%w: version %d", ErrBadMessage, m.V)
	}
	for name, id := range map[string]string{"organization_id": m.OrgID, "session_id": m.SessionID, "task_id": m.TaskID} {
		if !isUUID(id) {
			return Message{}, fmt.Errorf("%w: %s is not a uuid", ErrBadMessage, name)
		}
	}
	switch m.Kind {
	case eval.TaskReevaluate:
		if m.RunID != "" {
			return Message{}, fmt.Errorf("%w: run_id on a reevaluate", ErrBadMessage)
		}
	case eval.TaskRetry:
		if !isUUID(m.RunID) {
			return Message{}, fmt.Errorf("%w: run_id is not a uuid", ErrBadMessage)
		}
	default:
		return Message{}, fmt.Errorf("%w: kind %q", ErrBadMessage, m.Kind)
	}
	return m, nil
}

func isUUID(s string) bool {
	u, err := uuid.Parse(s)
	return err == nil && u.String() == s
}

// Task returns the task reference the message carries.
func (m Message) Task() eval.Task {
	t := eval.Task{ID: m.TaskID, OrgID: m.OrgID, SessionID: m.SessionID, Kind: m.Kind, RunID: m.RunID}
	if m.RunID != "" {
		t.RunIDs = []string{m.RunID}
	}
	return t
}

// API is the part of the SQS client the adapter uses.
type API interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// Sender sends tasks to the eval queue. The SDK's standard retryer retries
// throttling and 5xx (3 attempts); what fails after that is returned.
type Sender struct {
	api API
	url string
}

var _ eval.Sender = (*Sender)(nil)

// NewSender returns a sender to the queue at url.
func NewSender(api API, url string) *Sender { return &Sender{api: api, url: url} }

// Send implements eval.Sender.
func (s *Sender) Send(ctx context.Context, t eval.Task) error { return s.SendAfter(ctx, t, 0) }

// SendAfter sends t to be delivered after delay (whole seconds, at most 15
// minutes, SQS's limit).
func (s *Sender) SendAfter(ctx context.Context, t eval.Task, delay time.Duration) error {
	secs := int32(min((delay+time.Second-1)/time.Second, 900))
	_, err := s.api.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:     aws.String(s.url),
		DelaySeconds: secs,
		MessageBody:  aws.String(FromTask(t).Encode()),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"kind": {DataType: aws.String("String"), StringValue: aws.String(t.Kind)},
		},
	})
	if err != nil {
		return fmt.Errorf("send task %s: %w", t.ID, err)
	}
	return nil
}

// Visibility delays the next delivery of a message of the queue at URL.
type Visibility struct {
	API API
	URL string
}

// Delay makes the message with receiptHandle visible again after d
// (rounded up to whole seconds, at most 12 hours).
func (v Visibility) Delay(ctx context.Context, receiptHandle string, d time.Duration) error {
	secs := int32(min((d+time.Second-1)/time.Second, 12*3600))
	_, err := v.API.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(v.URL), ReceiptHandle: aws.String(receiptHandle), VisibilityTimeout: secs,
	})
	if err != nil {
		return fmt.Errorf("change visibility: %w", err)
	}
	return nil
}
