#!/usr/bin/env bash
# Measures StartSyncExecution through `spate serve` with Debian's wrk
# (apt-get install -y wrk): creates the state machine, runs wrk at full
# speed, then again with a pause per request to measure latency below
# saturation, and stops the server.
#
#   bench/api/run.sh [DEFINITION] [INPUT] [SECONDS] [CONNECTIONS] [DELAY_MS]
#
# Defaults: config/workflows/bench/choice-router.asl.json with
# iot-event.json, 10 s, 64 connections, and a 2 ms pause for the second
# run. Build first: cargo build --release; SPATE_BIN=PATH measures another
# build (to compare two in one sitting). SPATE_ACTION=DescribeStateMachine
# measures a call that runs no execution: the HTTP layer's ceiling.
set -euo pipefail
cd "$(dirname "$0")/../.."
definition="${1:-config/workflows/bench/choice-router.asl.json}"
input="${2:-config/workflows/bench/iot-event.json}"
seconds="${3:-10}"
connections="${4:-64}"
delay="${5:-2}"
spate="${SPATE_BIN:-target/release/spate}"
[ -x "$spate" ] || { echo "build first: cargo build --release" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }

log="$(mktemp)"
SPATE_SERVE_CONFIG="${SPATE_SERVE_CONFIG:-}"
if [ -n "$SPATE_SERVE_CONFIG" ]; then
    "$spate" serve --addr 127.0.0.1:0 --config "$SPATE_SERVE_CONFIG" >"$log" 2>&1 &
else
    "$spate" serve --addr 127.0.0.1:0 >"$log" 2>&1 &
fi
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do grep -q listening "$log" && break; sleep 0.05; done
endpoint="$(sed -n 's/^spate serve: listening on //p' "$log")"

name="bench"
body="$(python3 -c 'import json,sys; print(json.dumps({"name": sys.argv[1], "definition": open(sys.argv[2]).read(), "roleArn": "arn:aws:iam::123456789012:role/bench", "type": "EXPRESS"}))' "$name" "$definition")"
arn="$(curl -sf "$endpoint/" -H 'Content-Type: application/x-amz-json-1.0' \
    -H 'X-Amz-Target: AWSStepFunctions.CreateStateMachine' -d "$body" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["stateMachineArn"])')"
export SPATE_ARN="$arn"
SPATE_INPUT="$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))' "$input")"
export SPATE_INPUT

one="$(curl -sf "$endpoint/" -H 'Content-Type: application/x-amz-json-1.0' \
    -H 'X-Amz-Target: AWSStepFunctions.StartSyncExecution' \
    -d "$(python3 -c 'import json,os; print(json.dumps({"stateMachineArn": os.environ["SPATE_ARN"], "input": os.environ["SPATE_INPUT"]}))')")"
echo "one execution: $one"
echo "$one" | grep -q '"status":"SUCCEEDED"' || { echo "the execution did not succeed" >&2; exit 1; }

echo "== saturation: $connections connections, $seconds s"
wrk -t 1 -c "$connections" -d "${seconds}s" --latency -s bench/api/start-sync.lua "$endpoint/"
echo "== with a ${delay} ms pause per request"
SPATE_DELAY_MS="$delay" wrk -t 1 -c "$connections" -d "${seconds}s" --latency -s bench/api/start-sync.lua "$endpoint/"
