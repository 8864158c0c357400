// Package store is Plume's DynamoDB adapter: one table, every key built in
// keys.go, item structs (the table's wire shape) in items.go, SDK errors
// translated into eval's error kinds.
//
// Access patterns and what serves them:
//
//	authenticate a request          GetItem  PK=APIKEY#<sha256>            SK=APIKEY
//	list / revoke an org's keys     Query    PK=ORG#<org>                  SK begins_with APIKEY#
//	conversation (+ its guard)      GetItem  PK=ORG#<o>#CONV#<c>           SK=CONV
//	transcript                      Query    PK=ORG#<o>#CONV#<c>           SK begins_with TURN#
//	reevaluate: 202 or 409          TransactWriteItems: Update CONV (condition: exists, no task or lease over) + Put TASK
//	retry: 202 or 409               TransactWriteItems: Update CONV (free, same gen) + Update RUN (failed|errored) + Put TASK
//	run by id                       GetItem  PK=ORG#<o>#RUN#<r>            SK=RUN
//	runs of a conversation's gen    Query    GSI1 GSI1PK=ORG#<o>#CONV#<c>#RUNS  GSI1SK begins_with GEN#<gen>#
//	org's runs, newest first        Query    GSI2 GSI2PK=ORG#<o>#RUNS      (filters on the page)
//	task by id                      GetItem  PK=ORG#<o>#TASK#<t>           SK=TASK
//	evaluator by id                 GetItem  PK=ORG#<o>#EVALUATOR#<e>      SK=EVALUATOR
//	org's evaluators                Query    GSI2 GSI2PK=ORG#<o>#EVALUATORS
//	an evaluator's bindings         Query    PK=ORG#<o>#EVALUATOR#<e>      SK begins_with BIND# (uniqueness markers)
//	binding by id                   GetItem  PK=ORG#<o>#BINDING#<b>        SK=BINDING
//	bindings of an agent/scenario   Query    GSI1 GSI1PK=ORG#<o>#TARGET#<scope>#<id>
//	org's bindings                  Query    GSI2 GSI2PK=ORG#<o>#BINDINGS
//	agent eval config               GetItem  PK=ORG#<o>#AGENT#<a>          SK=EVALCONFIG
//	expired leases (sweeper)        Query    GSI3 GSI3PK=LEASE GSI3SK < now (sparse: only held guards)
//
// "Wiping" a conversation's runs is a generation switch on the guard, not a
// delete inside the transaction: the transaction's size never grows with
// the number of evaluators or runs, readers hide runs of other generations
// from the moment of the commit, and the worker deletes them afterwards.
package store
