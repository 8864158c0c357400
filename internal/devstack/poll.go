package devstack

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// BatchHandler is the SQS Lambda handler (worker.Handler.Handle).
type BatchHandler func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error)

// Poller is what the Lambda service does for an SQS event source: it
// receives batches, hands them to the handler with a deadline, and deletes
// the messages the handler did not report as failed.
type Poller struct {
	SQS      *sqs.Client
	QueueURL string
	QueueARN string
	Handle   BatchHandler
	// Timeout is the function timeout given to each invocation.
	Timeout time.Duration
	// Idle is the pause after an empty receive. moto serves one request at
	// a time, so the poller never long-polls.
	Idle time.Duration
	Log  *slog.Logger
}

// Run polls until ctx ends.
func (p *Poller) Run(ctx context.Context) {
	for ctx.Err() == nil {
		n, err := p.Once(ctx)
		if err != nil && ctx.Err() == nil {
			p.Log.Warn("poll failed", "queue", p.QueueURL, "err", err)
		}
		if n == 0 || err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(p.Idle):
			}
		}
	}
}

// Once receives and handles one batch and returns its size.
func (p *Poller) Once(ctx context.Context) (int, error) {
	out, err := p.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(p.QueueURL), MaxNumberOfMessages: 5, WaitTimeSeconds: 0,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
	})
	if err != nil || len(out.Messages) == 0 {
		return 0, err
	}
	ev := events.SQSEvent{}
	for _, m := range out.Messages {
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
			Attributes: m.Attributes, EventSource: "aws:sqs", EventSourceARN: p.QueueARN, AWSRegion: "us-east-1",
		})
	}
	ictx, cancel := context.WithTimeout(ctx, p.Timeout)
	resp, err := p.Handle(ictx, ev)
	cancel()
	if err != nil {
		return len(ev.Records), err // the whole batch comes back
	}
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	for _, r := range ev.Records {
		if failed[r.MessageId] {
			continue
		}
		if _, err := p.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(p.QueueURL), ReceiptHandle: aws.String(r.ReceiptHandle)}); err != nil {
			return len(ev.Records), err
		}
	}
	return len(ev.Records), nil
}

// QueueARN returns the ARN of the queue at url.
func QueueARN(ctx context.Context, c *sqs.Client, url string) (string, error) {
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", err
	}
	return out.Attributes[string(sqstypes.QueueAttributeNameQueueArn)], nil
}
