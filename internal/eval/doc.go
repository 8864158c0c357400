// Package eval is Plume's domain: the vocabulary of conversations, evaluators,
// bindings, runs, scores and tasks; the closed set of error kinds; the rules
// that turn runs into outcomes and a conversation's verdict; and the
// reevaluate and retry services that decide 202 versus 409.
//
// The package imports no AWS package (a depguard rule keeps it so). Storage,
// queues and HTTP are adapters that live in their own packages and depend on
// this one, never the other way round. The interfaces the services need
// (Guards, Sender) are declared here, by their consumer.
package eval
