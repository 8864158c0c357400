package store

import (
	"fmt"
	"strings"
	"time"
)

// Every key of the single table is built here and nowhere else. Partition
// keys start with the organization, so no query can leave it.

const (
	pkAPIKey = "APIKEY#" // + sha256 hex
	pkOrg    = "ORG#"    // + org id

	skAPIKey     = "APIKEY"
	skConv       = "CONV"
	skTurn       = "TURN#" // + zero-padded seq
	skEvaluator  = "EVALUATOR"
	skBindMarker = "BIND#" // + scope#target, in the evaluator's partition
	skBinding    = "BINDING"
	skRun        = "RUN"
	skTask       = "TASK"
	skEvalConfig = "EVALCONFIG"

	gsiLeases = "LEASE" // GSI3PK of every held guard

	idxByParent = "GSI1" // runs by conversation and generation; bindings by target
	idxByOrg    = "GSI2" // org-wide lists, newest first
	idxLeases   = "GSI3" // held guards by lease expiry
)

// key is a table primary key.
type key struct {
	PK string `dynamodbav:"PK"`
	SK string `dynamodbav:"SK"`
}

func apiKeyKey(hash string) key       { return key{pkAPIKey + hash, skAPIKey} }
func orgAPIKeyKey(org, id string) key { return key{pkOrg + org, "APIKEY#" + id} }
func convPK(org, conv string) string  { return pkOrg + org + "#CONV#" + conv }
func convKey(org, conv string) key    { return key{convPK(org, conv), skConv} }
func turnKey(org, conv string, seq int) key {
	return key{convPK(org, conv), fmt.Sprintf("%s%06d", skTurn, seq)}
}
func evaluatorPK(org, id string) string { return pkOrg + org + "#EVALUATOR#" + id }
func evaluatorKey(org, id string) key   { return key{evaluatorPK(org, id), skEvaluator} }
func bindMarkerKey(org, evaluator, scope, target string) key {
	return key{evaluatorPK(org, evaluator), skBindMarker + scope + "#" + target}
}
func bindingKey(org, id string) key       { return key{pkOrg + org + "#BINDING#" + id, skBinding} }
func runKey(org, id string) key           { return key{pkOrg + org + "#RUN#" + id, skRun} }
func taskKey(org, id string) key          { return key{pkOrg + org + "#TASK#" + id, skTask} }
func evalConfigKey(org, agent string) key { return key{pkOrg + org + "#AGENT#" + agent, skEvalConfig} }

// GSI1: a run under its conversation, grouped by generation, newest first
// inside it; a binding under its target.
func runParentPK(org, conv string) string { return convPK(org, conv) + "#RUNS" }
func runParentSK(gen string, created time.Time, id string) string {
	return "GEN#" + gen + "#" + stamp(created) + "#" + id
}
func genPrefix(gen string) string { return "GEN#" + gen + "#" }
func targetPK(org, scope, target string) string {
	return pkOrg + org + "#TARGET#" + scope + "#" + target
}

// GSI2: org-wide lists of one entity type, newest first.
func orgListPK(org, entity string) string           { return pkOrg + org + "#" + entity }
func orgListSK(created time.Time, id string) string { return stamp(created) + "#" + id }

const (
	listRuns       = "RUNS"
	listEvaluators = "EVALUATORS"
	listBindings   = "BINDINGS"
)

// stamp is a sortable UTC time.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// orgOf returns the organization of a partition key, "" when it has none.
func orgOf(pk string) string {
	rest, ok := strings.CutPrefix(pk, pkOrg)
	if !ok {
		return ""
	}
	org, _, _ := strings.Cut(rest, "#")
	return org
}
