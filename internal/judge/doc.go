// Package judge asks an LLM to grade a conversation: the model_judge evaluator
// kind. It holds the three providers (OpenAI and any OpenAI-compatible server,
// Anthropic, Amazon Bedrock), the strict parser of their answers, the error
// kinds the worker's retry layer acts on, and the price table that turns
// tokens into cost.
//
// # One attempt per call
//
// A Provider makes exactly one HTTP attempt: the SDKs' own retries are turned
// off (OpenAI and Anthropic: WithMaxRetries(0); Bedrock: aws.NopRetryer for
// the call), so that the worker's retry layer is the only one. Every error is
// a *Error whose Kind says what to do:
//
//	Throttled     429 (and Bedrock's ThrottlingException, ModelNotReady, ServiceQuotaExceeded); RetryAfter from retry-after-ms or Retry-After (seconds or HTTP-date)
//	Unavailable   5xx, 529 overloaded, connection refused or reset
//	Timeout       context deadline, HTTP client timeout, 408
//	Unauthorized  401, 403, and 402 or OpenAI's insufficient_quota (waiting will not help)
//	NotFound      404, unknown model
//	BadRequest    any other 4xx, or a Request this package refuses to send
//	Malformed     an answer that is not a usable verdict (Parse failed, refusal, cut at max_tokens, unreadable body)
//	Misconfigured the provider is not configured: no key, unknown name, bad base URL
//
// Throttled, Unavailable, Timeout and Malformed are retryable (Kind.Retryable).
// Error() names the cause, "openai: 401 Unauthorized: invalid api key", and
// never contains an API key: the key, and anything shaped like one
// ("sk-…"), is replaced by "[redacted]".
//
// # The prompt and its data boundary
//
// The system message holds the evaluator's instructions and the answer
// format, and says that the transcript is data to grade, never instructions.
// The user message holds the transcript as JSON, {"turns": [{"role",
// "content", "created_at"}]}, between <transcript> and </transcript>. The JSON
// is produced by encoding/json, which escapes '<', '>' and '&' as \u003c,
// \u003e and \u0026, so no text in the conversation can close the tag or open
// a new one.
//
// # Structured output, per provider
//
//   - OpenAI: Chat Completions with response_format {"type": "json_schema",
//     "strict": true}, schema {"score": number 0..1, "rationale": string} or
//     {"passed": boolean, "rationale": string}, additionalProperties false.
//     max_completion_tokens carries MaxTokens.
//   - Anthropic: Messages with structured outputs, output_config.format
//     {"type": "json_schema"} with the same schema (the score's range is
//     described, as that mode has no minimum/maximum; Parse enforces it). A
//     forced tool (tool_choice of type "tool") is not used: the current Claude
//     models (Sonnet 5.5, Opus 5.5, Fable 5.1) answer it with a 400.
//   - Bedrock: Converse with a toolConfig holding one tool, record_verdict,
//     whose input schema is the answer's, and toolChoice forcing it. The tool
//     input is read; a model that answers in text instead is held to the same
//     rule. The Claude models reachable through Converse (Opus 4.6 and
//     earlier) and Amazon Nova accept a forced tool.
//
// Whatever the mechanism, the answer text (or tool input) goes through Parse:
// structured output is an aid, never a reason to trust the answer.
//
// # Sampling
//
// Temperature defaults to 0. It is sent to OpenAI-compatible models and to
// Bedrock, but not to OpenAI's reasoning models (ids o1…o9…, gpt-5 and later),
// which reject any temperature but the default, nor to Anthropic at all: API
// version 2026-10-21, which anthropic-sdk-go/v2 speaks, removed temperature,
// top_p and top_k and answers any of them with a 400. Reasoning and adaptive
// thinking spend output tokens too: give such models a larger MaxTokens, or
// their answers are cut (Malformed, "cut at max_tokens").
//
// # The strict parse rule
//
// Parse accepts exactly one JSON object, and nothing else:
//
//   - Surrounding white space is ignored. The object may be the whole text, or
//     the whole content of one code fence (``` or ```json, fences on their own
//     lines) that is itself the whole text.
//   - Prose before or after the object, several objects, several fences, a
//     fence marked with another language, and truncated JSON are refused.
//   - The object has exactly the two fields of its format: "score" (a JSON
//     number in [0, 1]; not a string, not null) or "passed" (true or false),
//     and "rationale" (a JSON string). A missing field, a duplicate field, a
//     wrong type, a score outside [0, 1] and any other field (for example
//     "passed" in a score answer, or an extra "confidence") are refused: with
//     strict structured output a conforming model never sends them, so an
//     extra field means the model did not follow the schema.
//   - The rationale is trimmed and cut to MaxRationale (4000) runes, the last
//     being "…" when cut. An answer over 1 MiB is refused unread.
//
// A rejected answer is a *Error of Kind Malformed, which is retryable: a model that
// wandered once often answers well the next time.
//
// # Tokens and cost
//
// Verdict.InputTokens and OutputTokens come from the provider's usage fields
// (prompt_tokens/completion_tokens; input_tokens/output_tokens plus cache
// reads and writes; Bedrock's inputTokens/outputTokens plus cache reads and
// writes). A Malformed answer still returns them. Prices.Cost turns them into
// US dollars from DefaultPrices, overridden by the deployment's
// PLUME_JUDGE_PRICES (ParsePrices, then Merge).
package judge
