// Package judgetest runs local HTTP servers that speak the judge providers'
// wire formats, for tests and for the local dev stack:
//
//   - NewOpenAI: the OpenAI Chat Completions API (POST /chat/completions, or
//     /v1/chat/completions), also what OpenAI-compatible servers speak;
//   - NewAnthropic: the Anthropic Messages API (POST /v1/messages);
//   - NewBedrock: the Amazon Bedrock Converse API (POST /model/{id}/converse).
//
// Each server checks a request as the real API would (path, credentials
// header, JSON body, required fields; the Anthropic server also refuses
// sampling parameters, as API version 2026-10-21 does) and answers a refusal
// in the provider's own error format. An accepted request is answered by the
// next Step of the script: a verdict (fixed, or computed from the request by a
// caller's func), prose, prose-wrapped JSON, a broken body, an error status
// with optional Retry-After, a delay, or a hang that lasts until the client
// gives up. When the script runs out, its last step repeats; an empty script
// answers every request with a default verdict of the requested format.
//
// Answers use the documented JSON of each API, usage included:
// prompt_tokens/completion_tokens, input_tokens/output_tokens,
// inputTokens/outputTokens. Errors are {"error": {"type", "message"}} (OpenAI
// adds "code"; Anthropic wraps it in {"type": "error", ...} with a request-id
// header), and Bedrock's {"__type", "message"} with X-Amzn-ErrorType.
//
// Every request is recorded, parsed (model, system and user text, temperature,
// max tokens, requested JSON Schema and format, forced tool): see
// Server.Requests. Request.Turns decodes the transcript the judge package
// sends, so a Compute step can grade it:
//
//	srv := judgetest.NewOpenAI(t,
//		judgetest.RateLimited("2"),
//		judgetest.Compute(func(r judgetest.Request) judgetest.Verdict {
//			turns, _ := r.Turns()
//			return judgetest.PassedVerdict(len(turns) > 0, "has turns")
//		}),
//	)
//	p := judge.NewOpenAI("test-key", srv.URL, nil)
package judgetest
