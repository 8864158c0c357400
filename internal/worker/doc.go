// Package worker runs evaluation tasks: it plans a reevaluate task's runs
// from fresh snapshots of the evaluators bound now, creates them, deletes
// the runs of earlier generations, runs each evaluator (bounded
// concurrency), writes scores, tokens and cost, and when the last run ends
// records the conversation's verdict and releases its guard.
//
// Delivery is at least once and a Lambda can die anywhere, so every step is
// idempotent: run and score ids are deterministic, the plan is fixed once,
// and every write is conditioned on the task still owning what it writes.
// There is one retry layer, here: providers make one attempt each, the
// worker retries throttling, 5xx, timeouts and unusable output with
// backoff that honours Retry-After, inside the invocation while its
// deadline allows and across deliveries otherwise, and writes a terminal
// status only after the last attempt.
package worker
