package judge

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/aws/smithy-go"
)

// Converser is the part of *bedrockruntime.Client that Bedrock uses.
type Converser interface {
	Converse(ctx context.Context, in *bedrockruntime.ConverseInput, optFns ...func(*bedrockruntime.Options)) (*bedrockruntime.ConverseOutput, error)
}

var _ Converser = (*bedrockruntime.Client)(nil)

// verdictTool is the name of the tool Bedrock models are forced to call.
const verdictTool = "record_verdict"

// Bedrock judges with the Amazon Bedrock Converse API, asking for the answer
// as the input of a forced tool call (toolConfig with toolChoice of that tool).
type Bedrock struct {
	c   Converser
	now func() time.Time
}

var _ Provider = (*Bedrock)(nil)

// NewBedrock returns the Bedrock provider over c, typically a
// *bedrockruntime.Client built once at init. Each call disables the client's
// retries (its Retryer is replaced by aws.NopRetryer for that call). c nil
// makes every call fail with Kind Misconfigured.
func NewBedrock(c Converser) *Bedrock {
	if cl, ok := c.(*bedrockruntime.Client); ok && cl == nil {
		c = nil // a typed nil would panic on the first call
	}
	return &Bedrock{c: c, now: time.Now}
}

// Judge asks the model once. See Provider.
func (p *Bedrock) Judge(ctx context.Context, req Request) (Verdict, error) {
	if p == nil || p.c == nil {
		return Verdict{}, &Error{Kind: Misconfigured, Provider: NameBedrock, Msg: "provider is not configured"}
	}
	if err := req.validate(NameBedrock); err != nil {
		return Verdict{}, err
	}
	system, user, err := prompts(req)
	if err != nil {
		return Verdict{}, &Error{Kind: BadRequest, Provider: NameBedrock, Msg: "cannot encode the transcript", Err: err}
	}
	maxTokens := req.maxTokens()
	if maxTokens > 1<<31-1 {
		return Verdict{}, &Error{Kind: BadRequest, Provider: NameBedrock, Msg: "max_tokens is too large"}
	}

	in := &bedrockruntime.ConverseInput{
		ModelId: aws.String(req.Model),
		System:  []types.SystemContentBlock{&types.SystemContentBlockMemberText{Value: system}},
		Messages: []types.Message{{
			Role:    types.ConversationRoleUser,
			Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: user}},
		}},
		InferenceConfig: &types.InferenceConfiguration{
			MaxTokens:   aws.Int32(int32(maxTokens)),
			Temperature: aws.Float32(float32(req.Temperature)),
		},
		ToolConfig: &types.ToolConfiguration{
			Tools: []types.Tool{&types.ToolMemberToolSpec{Value: types.ToolSpecification{
				Name:        aws.String(verdictTool),
				Description: aws.String("Record your verdict on the conversation."),
				InputSchema: &types.ToolInputSchemaMemberJson{Value: document.NewLazyDocument(answerSchema(req.Format, false))},
			}}},
			ToolChoice: &types.ToolChoiceMemberTool{Value: types.SpecificToolChoice{Name: aws.String(verdictTool)}},
		},
	}
	out, err := p.c.Converse(ctx, in, func(o *bedrockruntime.Options) {
		o.Retryer = aws.NopRetryer{} // one attempt: the worker owns retries
	})
	if err != nil {
		return Verdict{}, p.classify(err)
	}

	v := Verdict{Model: req.Model}
	if u := out.Usage; u != nil {
		v.InputTokens = int64(aws.ToInt32(u.InputTokens)) + int64(aws.ToInt32(u.CacheReadInputTokens)) + int64(aws.ToInt32(u.CacheWriteInputTokens))
		v.OutputTokens = int64(aws.ToInt32(u.OutputTokens))
	}
	switch out.StopReason {
	case types.StopReasonMaxTokens:
		return v, malformed(NameBedrock, "the answer was cut at max_tokens (%d)", maxTokens)
	case types.StopReasonGuardrailIntervened, types.StopReasonContentFiltered:
		return v, malformed(NameBedrock, "the answer was withheld (%s)", out.StopReason)
	}
	msg, ok := out.Output.(*types.ConverseOutputMemberMessage)
	if !ok {
		return v, malformed(NameBedrock, "the response has no message")
	}
	// The forced tool call carries the verdict; a model that answered in text
	// instead is held to the same strict rule.
	var text strings.Builder
	for _, block := range msg.Value.Content {
		switch b := block.(type) {
		case *types.ContentBlockMemberToolUse:
			if aws.ToString(b.Value.Name) != verdictTool || b.Value.Input == nil {
				continue
			}
			raw, err := b.Value.Input.MarshalSmithyDocument()
			if err != nil {
				return v, malformed(NameBedrock, "the tool input cannot be read: %v", err)
			}
			return verdictFrom(NameBedrock, string(raw), req.Format, v)
		case *types.ContentBlockMemberText:
			text.WriteString(b.Value)
		}
	}
	return verdictFrom(NameBedrock, text.String(), req.Format, v)
}

// bedrockKind maps a Bedrock error code to a kind, ahead of the HTTP status.
func bedrockKind(code string) (Kind, bool) {
	switch code {
	case "ThrottlingException", "ModelNotReadyException", "ServiceQuotaExceededException":
		return Throttled, true
	case "ServiceUnavailableException", "InternalServerException", "ModelErrorException":
		return Unavailable, true
	case "ModelTimeoutException":
		return Timeout, true
	case "AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException":
		return Unauthorized, true
	case "ResourceNotFoundException":
		return NotFound, true
	}
	return 0, false
}

// classify turns an SDK error into a *Error.
func (p *Bedrock) classify(err error) error {
	var re *awshttp.ResponseError
	var ae smithy.APIError
	hasRe, hasAe := errors.As(err, &re), errors.As(err, &ae)
	if hasAe || (hasRe && re.HTTPStatusCode() >= 400) {
		status := 0
		var h http.Header
		if hasRe {
			status = re.HTTPStatusCode()
			if re.Response != nil && re.Response.Response != nil {
				h = re.Response.Header
			}
		}
		code, msg := "", ""
		if hasAe {
			code, msg = ae.ErrorCode(), ae.ErrorMessage()
		}
		if msg == "" {
			msg = code
		}
		e := apiError(NameBedrock, status, h, msg, "", p.now(), err)
		if k, ok := bedrockKind(code); ok {
			e.Kind = k
		} else if code == "ValidationException" && strings.Contains(strings.ToLower(msg), "model identifier is invalid") {
			e.Kind = NotFound
		} else if status == 0 {
			e.Kind = BadRequest
		}
		if code != "" && msg != code {
			e.Msg = code + ": " + e.Msg
		}
		return e
	}
	if e := transportError(NameBedrock, err, ""); e != nil {
		return e
	}
	if strings.Contains(err.Error(), "credentials") {
		return &Error{Kind: Misconfigured, Provider: NameBedrock, Msg: "no usable AWS credentials", Err: err}
	}
	var de *smithy.DeserializationError
	if errors.As(err, &de) {
		return &Error{Kind: Malformed, Provider: NameBedrock, Msg: redact("unreadable response: "+de.Error(), ""), Err: err}
	}
	return unreadable(NameBedrock, err, "")
}
