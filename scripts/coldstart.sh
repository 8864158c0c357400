#!/usr/bin/env bash
# coldstart.sh [RUNS]
#
# Measures the cold start of the reevaluate and evalworker bootstraps under the Lambda Runtime
# Interface Emulator, next to a minimal aws-lambda-go function as the baseline. The RIE starts
# the bootstrap on the first invocation, so the first invocation's time is process start, Go
# runtime init, our init (config, SDK clients) and the handler; the second is the handler alone.
# cold start = first - second. The events touch no AWS service (GET /healthz; an SQS message
# the worker drops as malformed), so no emulator is needed. Prints medians over RUNS (default 9).
set -euo pipefail
runs=${1:-9}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rie=$root/bin/aws-lambda-rie
[[ -x $rie ]] || { echo "no RIE: run make tools" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

build() { # build OUT PKG
	(cd "$root" && CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags='-s -w' -o "$1" "$2")
}
build "$work/reevaluate" ./functions/reevaluate
build "$work/evalworker" ./functions/evalworker
# The baseline lives in the module (under the ignored .cache/) so that it builds with the same
# aws-lambda-go version.
mkdir -p "$root/.cache/coldstart-baseline"
cat >"$root/.cache/coldstart-baseline/main.go" <<'GO'
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, map[string]any) (string, error) { return "ok", nil })
}
GO
build "$work/baseline.bin" ./.cache/coldstart-baseline

api_event=$root/events/healthz.json
sqs_event=$work/sqs.json
echo '{"Records":[{"messageId":"m1","receiptHandle":"r","body":"not a task","attributes":{},"messageAttributes":{},"eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:us-east-1:123456789012:plume-dev-eval","awsRegion":"us-east-1"}]}' >"$sqs_event"

export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_ENDPOINT_URL=http://127.0.0.1:9
export PLUME_TABLE=coldstart PLUME_QUEUE_URL=http://127.0.0.1:9/123456789012/coldstart PLUME_DLQ_ARN=arn:aws:sqs:us-east-1:123456789012:dlq

ms() { awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }'; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

measure() { # measure NAME BOOTSTRAP EVENT
	local name=$1 bin=$2 event=$3 firsts=() warms=() sizes
	for i in $(seq "$runs"); do
		local port=$((19000 + RANDOM % 500)) api=$((19600 + RANDOM % 500))
		"$rie" --runtime-interface-emulator-address "127.0.0.1:$port" --runtime-api-address "127.0.0.1:$api" "$bin" >"$work/rie.log" 2>&1 &
		local pid=$!
		for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.02; done
		local url=http://127.0.0.1:$port/2015-03-31/functions/function/invocations
		firsts+=("$(curl -s -o /dev/null -w '%{time_total}' -XPOST "$url" -d @"$event")")
		warms+=("$(curl -s -o /dev/null -w '%{time_total}' -XPOST "$url" -d @"$event")")
		kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
	done
	local first warm
	first=$(printf '%s\n' "${firsts[@]}" | median)
	warm=$(printf '%s\n' "${warms[@]}" | median)
	sizes=$(stat -c %s "$bin")
	printf '%-11s first %6s ms  warm %5s ms  cold start %6s ms  binary %5.1f MB (host arch)\n' \
		"$name" "$(ms "$first")" "$(ms "$warm")" "$(ms "$(awk -v a="$first" -v b="$warm" 'BEGIN{print a-b}')")" \
		"$(awk -v s="$sizes" 'BEGIN{print s/1048576}')"
}

echo "median of $runs runs, $(nproc) cores, $(go version | awk '{print $3}')"
measure baseline "$work/baseline.bin" "$api_event"
measure reevaluate "$work/reevaluate" "$api_event"
measure evalworker "$work/evalworker" "$sqs_event"
