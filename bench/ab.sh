#!/usr/bin/env bash
# Two builds of smsgate on the same scenario, alternating, in one run: the
# only comparison this noisy machine allows (RESULTS.md).
#
#   bench/ab.sh OLD_BINARY NEW_BINARY [ROUNDS] [loadgen scenario args...]
#
# Default scenario: POST /v1/messages, one recipient, concurrency 64,
# 15 s, intake only (scheduled 30 days out). Prints one line per run.
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=$1 NEW=$2 ROUNDS=${3:-2}
shift $(( $# < 3 ? $# : 3 ))
SCENARIO=("$@")
[ ${#SCENARIO[@]} -eq 0 ] && SCENARIO=(messages --schedule-days 30)
cargo build --release -p smsgate-loadgen >&2
LOAD=target/release/loadgen
PORT=18182
WORK=$(mktemp -d)
SERVER=
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT

run() { # run LABEL BINARY
  rm -f "$WORK"/bench.db*
  local key
  touch "$WORK/bench.db"  # an empty file is a new database to every build (older ones have no --create)
  key=$("$2" accounts create bench --credits 1000000000000 --db "$WORK/bench.db" | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')
  env SMSGATE_LOG=warn SMSGATE_DEMO_CREDITS=0 SMSGATE_ADMIN_TOKEN=sgadm_bench_9d2e7c4a1f8b3065e7c2a9d4f1b8e3c6 \
    "$2" serve --listen 127.0.0.1:$PORT --db "$WORK/bench.db" > "$WORK/server.out" &
  SERVER=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.05; done
  echo "== $1: $(basename "$(dirname "$(dirname "$2")")")"
  $LOAD --addr 127.0.0.1:$PORT --key "$key" --concurrency 64 --duration 15 "${SCENARIO[@]}"
  kill $SERVER; wait $SERVER 2>/dev/null || true
}

for round in $(seq "$ROUNDS"); do
  run "old, round $round" "$OLD"
  run "new, round $round" "$NEW"
done
