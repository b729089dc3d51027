#!/usr/bin/env bash
# Instructions per request of POST /v1/messages (intake only), the server
# under callgrind: total, the writer's transactions (in_savepoint), and the rest (HTTP,
# validation). Counts repeat where wall-clock figures do not.
#
#   bench/callgrind_requests.sh BINARY [SECONDS]
#
# BENCH_LOG sets the server's log filter (default warn; `info` counts the
# access log, written to a file as a real deployment would).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$1 SECONDS_=${2:-15}
cargo build --release -p smsgate-loadgen >&2
WORK=$(mktemp -d)
PORT=18183
trap 'pkill -INT -f "callgrind-out-file=$WORK/cg.out" 2>/dev/null || true; rm -rf "$WORK"' EXIT
touch "$WORK/b.db"  # an empty file is a new database to every build (older ones have no --create)
KEY=$("$BIN" accounts create bench --credits 1000000000 --db "$WORK/b.db" | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')
SMSGATE_LOG=${BENCH_LOG:-warn} SMSGATE_DEMO_CREDITS=0 SMSGATE_ADMIN_TOKEN=sgadm_bench_9d2e7c4a1f8b3065e7c2a9d4f1b8e3c6 \
  valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" "$BIN" serve --listen 127.0.0.1:$PORT --db "$WORK/b.db" \
  > "$WORK/server.out" 2> "$WORK/valgrind.err" &
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
# Start and warm-up (migrations, phone metadata) are not counted.
callgrind_control --zero "$(pgrep -f "callgrind-out-file=$WORK/cg.out" | head -1)" >/dev/null
N=$(target/release/loadgen --addr 127.0.0.1:$PORT --key "$KEY" --concurrency 8 --duration "$SECONDS_" messages --schedule-days 30 \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests_ok"])')
pkill -INT -f "callgrind-out-file=$WORK/cg.out"
while pgrep -f "callgrind-out-file=$WORK/cg.out" >/dev/null; do sleep 0.5; done
TOTAL=$(callgrind_annotate "$WORK/cg.out" | awk '/PROGRAM TOTALS/ {gsub(",","",$1); print $1}')
WRITER=$(callgrind_annotate --inclusive=yes "$WORK/cg.out" | awk '/conn::in_savepoint \[/ && !seen {gsub(",","",$1); print $1; seen = 1}')
echo "requests $N; instructions per request: total $((TOTAL / N)), writer $((WRITER / N)), the rest $(((TOTAL - WRITER) / N))"
