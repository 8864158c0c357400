// Package scorer runs Plume's deterministic evaluators: kinds "expression"
// (a CEL program) and "regex" (an RE2 pattern). They use no LLM and cost
// nothing; over a 50-turn conversation they answer in tens of microseconds,
// and limits on cost and pattern size bound the worst case, so the worker
// runs them inline.
//
// # The two calls
//
// [Check] validates a config when an evaluator is created or updated; the API
// answers 400 with the message of the error it returns. [Run] evaluates a run's
// snapshot (kind and config) against a conversation and its turns. Run checks
// the config again, so a snapshot that no longer compiles fails the same way.
//
// # Errors
//
// Every error is one of three kinds, told apart with errors.Is:
//
//   - [ErrConfig]: the config is invalid (a field missing or of the wrong
//     type, a limit exceeded, a program or pattern that does not compile, a
//     program whose type is not bool or a number). The message is safe to show
//     a client and names the field: `config.must_match: must be a boolean, got
//     string`. The worker ends the run errored.
//   - [ErrEval]: the program compiled but failed while running: the cost limit
//     was exceeded, a runtime error (no such key, division by zero), or a
//     result that is not a bool or a number in [0, 1]. The worker ends the run
//     failed.
//   - the context's error (context.Canceled or context.DeadlineExceeded) when
//     ctx ended before or during the evaluation; it is neither ErrConfig nor
//     ErrEval because the program is not at fault.
//
// # Kind "expression"
//
// config.expression (string, required, at most [MaxExpressionLen] characters)
// is a CEL program with the standard library, the optional types and these
// extensions: strings, lists, math, sets, bindings (cel.bind) and
// two-variable comprehensions. It sees exactly one variable:
//
//	conversation.turns         list of turns, in transcript order
//	  turn.role                string: user, assistant, tool or system
//	  turn.content             string
//	  turn.created_at          timestamp
//	conversation.channel       string
//	conversation.session_type  string: live, test or simulation
//	conversation.agent_id      string
//	conversation.metadata      map(string, dyn), the conversation's metadata
//
// Field names are checked when the program compiles (conversation.turnz is
// an ErrConfig), metadata keys only when it runs (a missing key is an
// ErrEval; test for it with has(conversation.metadata.csat) or read it with
// conversation.metadata.?csat.orValue(0)). Numbers compare across int and
// double (conversation.metadata.csat >= 4), but arithmetic does not mix them:
// write double(a) / double(b).
//
// The pattern of matches must be a string literal, so that every regex is
// checked and compiled with the program, under the same bound as the regex
// kind; its cost is charged by the size of its compiled program.
//
// The program must return a bool or a number (int, uint or double) in [0, 1];
// a program whose type is known to be something else (a string, a list) is an
// ErrConfig, one that returns such a value at run time (through dyn) is an
// ErrEval. A bool gives Value 1 or 0 with Boolean set; a number gives Value.
// Evaluation stops with an ErrEval once it has spent [CostLimit] units of
// CEL's cost model, and is interrupted when ctx ends. Compiled programs are
// cached by source, so only the first Run of a program pays for compiling it.
//
// # Kind "regex"
//
// config.pattern (string, required, at most [MaxPatternLen] characters, Go
// RE2 syntax; (?i) for case-insensitive; compiling to at most
// [MaxPatternInsts] instructions) is matched against the content of
// each targeted turn; config.target chooses them: "assistant", "user" or
// "any" (the default, every turn). config.must_match (default true) says
// whether the pattern must match in some targeted turn or in none. The result
// is always Boolean: Value 1 when passed, 0 when not. Evidence lists the ids
// of the matching turns; the rationale names the first matching turn by its
// position in the transcript, counting from 1.
//
// Config fields other than those above are ignored; a field set to JSON null
// counts as absent.
package scorer
