#!/usr/bin/env bash
# invoke.sh EVENT FUNCTION BOOTSTRAP
#
# Runs ONE invocation of a built bootstrap under the Lambda Runtime Interface Emulator (no
# Docker), against the local stack that `make dev` started, then stops the emulator. Use it
# through `make invoke EVENT=events/x.json FUNCTION=reevaluate|evalworker|sweeper`, which builds
# BOOTSTRAP for the host architecture first.
#
# The stack's settings come from .cache/dev.env (written by make dev): AWS_ENDPOINT_URL,
# AWS_REGION, AWS credentials, PLUME_TABLE, PLUME_QUEUE_URL, PLUME_DLQ_ARN. Everything else
# mirrors template.yaml's defaults and can be overridden from the caller's environment
# (PLUME_LEASE, PLUME_JUDGE_MODEL, OPENAI_API_KEY, ...).
#
# The RIE crashes on concurrent invocations (tooling.md §6): each run starts its own RIE on
# its own ports, sends exactly one request, and a lock keeps runs one at a time.
set -euo pipefail

die() { echo "invoke: $*" >&2; exit 1; }

[[ $# -eq 3 ]] || die "usage: $0 EVENT reevaluate|evalworker|sweeper BOOTSTRAP (or: make invoke EVENT=...)"
event=$1 fn=$2 bootstrap=$3
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
env_file=${PLUME_DEV_ENV:-$root/.cache/dev.env}
rie=${PLUME_RIE:-$root/bin/aws-lambda-rie}

[[ -f $event ]] || die "no event file: $event"
jq -e . "$event" >/dev/null 2>&1 || die "$event is not valid JSON"
[[ -x $bootstrap ]] || die "no executable bootstrap at $bootstrap"
bootstrap=$(cd "$(dirname "$bootstrap")" && pwd)/$(basename "$bootstrap")
[[ -x $rie ]] || die "no RIE at $rie: run make tools"
[[ -f $env_file ]] || die "$env_file not found: run make dev first (in another terminal), then retry"

# Function settings from template.yaml (Timeout, MemorySize) and its parameter defaults.
case $fn in
reevaluate) timeout=10 memory=256 ;;
evalworker) timeout=120 memory=512 ;;
sweeper) timeout=60 memory=256 ;;
*) die "unknown function $fn (want reevaluate, evalworker or sweeper)" ;;
esac

# shellcheck source=/dev/null
source "$env_file"
for v in AWS_ENDPOINT_URL AWS_REGION AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY PLUME_TABLE PLUME_QUEUE_URL PLUME_DLQ_ARN; do
	[[ -n ${!v:-} ]] || die "$v is not set by $env_file: restart make dev"
done
curl -s -o /dev/null --max-time 3 "$AWS_ENDPOINT_URL" ||
	die "nothing answers at AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL: run make dev first (in another terminal)"

mkdir -p "$root/.cache"
exec 9>"$root/.cache/invoke.lock"
flock -w 600 9 || die "another make invoke holds $root/.cache/invoke.lock"

# Two free loopback ports: the invoke API and the runtime API. Never the RIE's 0.0.0.0:8080.
free_port() {
	local p
	for _ in {1..50}; do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	die "no free port found"
}
port=$(free_port)
runtime_port=$(free_port)
[[ $port != "$runtime_port" ]] || runtime_port=$((port + 1))

log=$(mktemp)
resp=$(mktemp)
rie_pid=
cleanup() {
	if [[ -n $rie_pid ]]; then
		# setsid made the RIE a process-group leader: stop it and the bootstrap it started.
		kill -TERM -- "-$rie_pid" 2>/dev/null || kill -TERM "$rie_pid" 2>/dev/null || true
		for _ in {1..20}; do kill -0 "$rie_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL -- "-$rie_pid" 2>/dev/null || true
		wait "$rie_pid" 2>/dev/null || true
	fi
	rm -f "$log" "$resp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

env \
	AWS_LAMBDA_FUNCTION_NAME="plume-dev-$fn" \
	AWS_LAMBDA_FUNCTION_TIMEOUT="$timeout" \
	AWS_LAMBDA_FUNCTION_MEMORY_SIZE="$memory" \
	PLUME_LEASE="${PLUME_LEASE:-15m}" \
	PLUME_LOG_LEVEL="${PLUME_LOG_LEVEL:-DEBUG}" \
	PLUME_WORKER_CONCURRENCY="${PLUME_WORKER_CONCURRENCY:-4}" \
	PLUME_MAX_ATTEMPTS="${PLUME_MAX_ATTEMPTS:-5}" \
	PLUME_JUDGE_MODEL="${PLUME_JUDGE_MODEL:-gpt-4o-mini}" \
	setsid "$rie" \
	--runtime-interface-emulator-address "127.0.0.1:$port" \
	--runtime-api-address "127.0.0.1:$runtime_port" \
	"$bootstrap" >"$log" 2>&1 &
rie_pid=$!

ready=
for _ in {1..100}; do
	kill -0 "$rie_pid" 2>/dev/null || { cat "$log" >&2; die "the RIE exited before it was ready"; }
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then ready=1; break; fi
	sleep 0.1
done
[[ -n $ready ]] || { cat "$log" >&2; die "the RIE did not listen on 127.0.0.1:$port within 10s"; }

echo "invoke: $fn <- $event" >&2
status=$(curl -sS --max-time $((timeout + 30)) -o "$resp" -w '%{http_code}' \
	-X POST -H 'content-type: application/json' --data-binary "@$event" \
	"http://127.0.0.1:$port/2015-03-31/functions/function/invocations") ||
	{ cat "$log" >&2; die "the invocation request failed"; }

# Function output (JSON logs), without the emulator's own chatter; then the REPORT line with
# the cold start's Init Duration.
echo "--- function log" >&2
grep -v -e '(rapid)' -e '^REPORT ' -e '^START ' -e '^END ' "$log" >&2 || true
echo "--- response (HTTP $status)" >&2
if jq -e . "$resp" >/dev/null 2>&1; then jq . "$resp"; else cat "$resp"; echo; fi
grep -m1 -o 'REPORT .*' "$log" | grep 'Init Duration' >&2 || echo "(no Init Duration reported)" >&2

# The RIE answers 200 even when the function fails: look at the body (tooling.md §6).
if [[ $status != 200 ]] || jq -e 'type == "object" and has("errorType")' "$resp" >/dev/null 2>&1 ||
	grep -q 'Task timed out' "$resp"; then
	die "the function failed"
fi
