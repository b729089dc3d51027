#!/usr/bin/env bash
# Benchmarks of bench/RESULTS.md. Server and load generator share this
# machine's cores; each scenario gets a fresh database.
#
#   bench/run.sh [messages|batches|e2e|smpp|webhooks|memory|dialect|cluster|all]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p smsgate -p smsgate-loadgen >&2
cargo build --release -p smsgate-smpp --example smsc_ceiling >&2
BIN=target/release/smsgate
LOAD=target/release/loadgen
PORT=18181
WORK=$(mktemp -d)
NODES=
trap 'kill $SERVER $NODES 2>/dev/null || true; kill $SMSC 2>/dev/null || true; rm -rf "$WORK"' EXIT
SMSC=

# BENCH_DB=postgres runs the server on a fresh PostgreSQL database
# (BENCH_PG, default the local server) instead of an SQLite file.
BENCH_PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
start() { # start [extra env...]: fresh database, account with plenty of credits
  if [ "${BENCH_DB:-sqlite}" = postgres ]; then
    psql "$BENCH_PG/postgres" -qc "DROP DATABASE IF EXISTS smsgate_bench WITH (FORCE)" -c "CREATE DATABASE smsgate_bench"
    DB="$BENCH_PG/smsgate_bench"
  else
    rm -f "$WORK"/bench.db*
    touch "$WORK/bench.db"  # an empty file is a new database to every build (older ones have no --create)
    DB="$WORK/bench.db"
  fi
  KEY=$($BIN accounts create bench --credits 1000000000000 --db "$DB" | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')
  env SMSGATE_LOG=warn SMSGATE_DEMO_CREDITS=0 SMSGATE_ADMIN_TOKEN=sgadm_bench_9d2e7c4a1f8b3065e7c2a9d4f1b8e3c6 "$@" \
    $BIN serve --listen 127.0.0.1:$PORT --db "$DB" > "$WORK/server.out" &
  SERVER=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.05; done
}
stop() { kill $SERVER; wait $SERVER 2>/dev/null || true; }
rss_mb() { echo $(( $(awk '/VmRSS/ {print $2}' /proc/$SERVER/status) / 1024 )); }
# CPU seconds per server thread over a window, e.g. the writer against the
# HTTP workers: thread_cpu SECONDS
thread_cpu() {
  local window=$1 t
  snap() { for t in /proc/$SERVER/task/*; do echo "$(basename "$t") $(tr ' ' _ < "$t/comm") $(awk '{print $14+$15}' "$t/stat")"; done | sort; }
  snap > "$WORK/cpu0"; sleep "$window"; snap > "$WORK/cpu1"
  join "$WORK/cpu0" "$WORK/cpu1" | awk -v w="$window" '{d=($5-$3)/100; if (d>0.05) printf "  thread %-18s %5.0f%% of a core\n", $2, 100*d/w}'
}
metric() { curl -s "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 == m {print $2}' | head -1; }

REPEAT=${REPEAT:-3}

messages() {
  for mode in "" "--schedule-days 30"; do
    for run in $(seq "$REPEAT"); do
      start
      echo "== POST /v1/messages, one recipient, concurrency 64, 20 s ${mode:+(intake only: $mode)} run $run"
      (sleep 8; echo "per-thread CPU, 5 s in the middle of the run:"; thread_cpu 5) > "$WORK/threads.txt" &
      local sampler=$!
      $LOAD --addr 127.0.0.1:$PORT --key "$KEY" --concurrency 64 --duration 20 messages $mode
      wait "$sampler"; cat "$WORK/threads.txt"
      echo "server RSS: $(rss_mb) MB"
      stop
    done
  done
}

batches() {
  for mode in "" "--schedule-days 30"; do
    for run in $(seq "$REPEAT"); do
      start
      echo "== POST /v1/batches, 1,000 items, concurrency 4, 20 s ${mode:+(intake only: $mode)} run $run"
      $LOAD --addr 127.0.0.1:$PORT --key "$KEY" --concurrency 4 --duration 20 batches --items 1000 $mode
      echo "server RSS: $(rss_mb) MB"
      stop
    done
  done
}

# Offers $RATE messages/s as batches of 100 for 60 s to the running server
# and prints delivery every 5 s, per-thread CPU in the middle, and the
# delivered rate over the run.
offer_and_watch() {
  local rate=$1
  $LOAD --addr 127.0.0.1:$PORT --key "$KEY" --concurrency 8 --duration 60 --rate "$rate" batches --items 100 > "$WORK/load.json" &
  local load=$!
  local d0; d0=$(metric 'smsgate_message_transitions_total{status="delivered"}'); d0=${d0:-0}
  local t0; t0=$(date +%s.%N)
  (sleep 28; echo "per-thread CPU, 5 s in the middle of the run:"; thread_cpu 5) > "$WORK/threads.txt" &
  local sampler=$!
  for i in $(seq 1 13); do
    sleep 5
    local q; q=$(curl -s "http://127.0.0.1:$PORT/readyz")
    local d; d=$(metric 'smsgate_message_transitions_total{status="delivered"}')
    echo "t=$((i*5))s delivered_total=${d:-0} queue=$q"
  done
  wait $load
  wait "$sampler"; cat "$WORK/threads.txt"
  cat "$WORK/load.json"
  local t1; t1=$(date +%s.%N)
  local d1; d1=$(metric 'smsgate_message_transitions_total{status="delivered"}')
  python3 -c "print('delivered per second over the run: %d' % ((${d1:-0} - $d0) / ($t1 - $t0)))"
}

e2e() {
  local rate=${RATE:-10000}
  start
  echo "== end to end through the simulator: $rate messages/s offered as batches of 100 for 60 s"
  offer_and_watch "$rate"
  echo "server RSS: $(rss_mb) MB"
  stop
}

# The third-party test SMSC (node-smpp, tests/smsc) on a fixed port.
SMSC_PORT=27750
smsc_start() {
  npm ci --prefix tests/smsc --no-audit --no-fund >/dev/null
  node tests/smsc/smsc.js --port $SMSC_PORT --control 27751 > "$WORK/smsc.out" &
  SMSC=$!
  for _ in $(seq 100); do [ -s "$WORK/smsc.out" ] && break; sleep 0.05; done
  # Keep no record of each submit: the benchmark sends millions.
  curl -s -X POST localhost:27751/config -d '{"record": false}' >/dev/null
}
smsc_stop() { kill $SMSC; wait $SMSC 2>/dev/null || true; SMSC=""; }
# One SMPP connector to it, every message routed there: smpp_config BINDS
smpp_config() {
  cat <<TOML
[[connectors]]
name = "smsc"
kind = "smpp"
host = "127.0.0.1"
port = $SMSC_PORT
system_id = "smsgate"
password = "secret"
bind = "transceiver"
binds = $1
window = 50

[[routes]]
connector = "smsc"
TOML
}

smpp() {
  local rate=${RATE:-10000}
  for binds in ${BINDS:-1 4}; do
    smsc_start
    echo "== the SMSC alone: submit_sm with receipts, $binds transceiver(s), window 50, 20 s"
    target/release/examples/smsc_ceiling $SMSC_PORT "$binds" 50 20
    smsc_stop
    smsc_start
    smpp_config "$binds" > "$WORK/smpp.toml"
    start SMSGATE_CONFIG="$WORK/smpp.toml"
    echo "== end to end over SMPP, $binds bind(s), window 50: $rate messages/s offered as batches of 100 for 60 s"
    offer_and_watch "$rate"
    echo "SMSC process CPU: $(ps -o times= -p $SMSC) s; server RSS: $(rss_mb) MB"
    stop
    smsc_stop
  done
}

# Accepted messages/s with every event going to a webhook endpoint that is
# down (connection refused, so each delivery is retried), against none.
webhooks() {
  for run in $(seq "$REPEAT"); do
    for mode in none dead; do
      start
      if [ "$mode" = dead ]; then
        curl -sf "http://127.0.0.1:$PORT/v1/webhooks" -H "Authorization: Bearer $KEY" \
          -H 'Content-Type: application/json' -d '{"url": "http://127.0.0.1:9/down"}' >/dev/null
      fi
      echo "== POST /v1/messages, c=64, 20 s, webhooks: $mode, run $run"
      (sleep 8; echo "per-thread CPU, 5 s in the middle of the run:"; thread_cpu 5) > "$WORK/threads.txt" &
      local sampler=$!
      $LOAD --addr 127.0.0.1:$PORT --key "$KEY" --concurrency 64 --duration 20 messages
      wait "$sampler"; cat "$WORK/threads.txt"
      echo "webhook attempts: $(curl -s "http://127.0.0.1:$PORT/metrics" | grep '^smsgate_webhook_attempts_total' | tr '\n' ' ')"
      stop
    done
  done
}

memory() {
  start
  echo "== memory: 1,000,000 messages scheduled 30 days ahead"
  echo "RSS after start: $(rss_mb) MB"
  $LOAD --addr 127.0.0.1:$PORT --key "$KEY" --concurrency 2 --duration 600 batches --items 1000 --schedule-days 30 --total 1000000
  sleep 6
  echo "readyz: $(curl -s http://127.0.0.1:$PORT/readyz)"
  echo "RSS with 1,000,000 scheduled: $(rss_mb) MB"
  echo "database: $(du -sh "$WORK"/bench.db* | tr '\n' ' ')"
  stop
}

# The same one-recipient send through the native API and through the
# ultimate dialect (flexible parameters, its own answer), intake only so
# that the face is what differs.
dialect() {
  for run in $(seq "$REPEAT"); do
    for face in messages ultimate; do
      start
      echo "== $face, one recipient, concurrency 64, 20 s, intake only (--schedule-days 30) run $run"
      $LOAD --addr 127.0.0.1:$PORT --key "$KEY" --concurrency 64 --duration 20 $face --schedule-days 30
      stop
    done
  done
}

# One SMPP connector to the test SMSC, shared by every node (each node
# holds it in turn, see docs/cluster.md); SQLite with one node, then
# PostgreSQL with one, two and three nodes, one after the other in one
# run. Per setup: accepted messages/s (one recipient each, concurrency 64
# spread over the nodes, 20 s, delivery running), and what the SMSC
# delivered meanwhile; then end to end: $RATE messages/s offered as batches
# of 100 for 30 s, delivered/s.
cluster() {
  local rate=${RATE:-2000}
  local setups=${SETUPS:-"sqlite:1 postgres:1 postgres:2 postgres:3"}
  smpp_config 1 > "$WORK/cluster.toml"
  for setup in $setups; do
    local store=${setup%:*} nodes=${setup#*:}
    smsc_start
    BENCH_DB=$store start SMSGATE_CONFIG="$WORK/cluster.toml" SMSGATE_ENGINE__CLUSTER__NODE=n1
    local servers=$SERVER
    for i in $(seq 2 "$nodes"); do
      env SMSGATE_LOG=warn SMSGATE_DEMO_CREDITS=0 SMSGATE_ADMIN_TOKEN=sgadm_bench_9d2e7c4a1f8b3065e7c2a9d4f1b8e3c6 \
        SMSGATE_CONFIG="$WORK/cluster.toml" SMSGATE_ENGINE__CLUSTER__NODE=n$i \
        $BIN serve --listen 127.0.0.1:$((PORT + i - 1)) --db "$DB" > "$WORK/server$i.out" &
      servers="$servers $!"
    done
    NODES=$servers
    for i in $(seq 1 "$nodes"); do
      for _ in $(seq 100); do curl -sf "http://127.0.0.1:$((PORT + i - 1))/healthz" >/dev/null && break; sleep 0.05; done
    done
    sleep 2 # the connector binds on its holder
    local c0; c0=$(curl -s localhost:27751/state | python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"]["submits"])')
    echo "== $store, $nodes node(s): POST /v1/messages, one recipient, concurrency 64 over the nodes, 20 s, delivery over SMPP"
    local loads=""
    for i in $(seq 1 "$nodes"); do
      $LOAD --addr 127.0.0.1:$((PORT + i - 1)) --key "$KEY" --concurrency $((64 / nodes)) --duration 20 messages > "$WORK/load$i.json" &
      loads="$loads $!"
    done
    # n1 holds the connector (it started first): every status change is its.
    (sleep 8; echo "per-thread CPU of n1, 5 s in the middle of the run:"; thread_cpu 5) > "$WORK/threads.txt" &
    local sampler=$!
    wait $loads
    wait "$sampler"; cat "$WORK/threads.txt"
    cat "$WORK"/load*.json
    local c1; c1=$(curl -s localhost:27751/state | python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"]["submits"])')
    python3 -c "import json,glob; print('accepted per second, all nodes: %d' % sum(json.load(open(f))['requests_per_s'] for f in glob.glob('$WORK/load*.json')))"
    echo "submitted to the SMSC during the run: $((c1 - c0)) ($(( (c1 - c0) / 20 ))/s)"
    rm -f "$WORK"/load*.json
    echo "== $store, $nodes node(s): end to end over SMPP, $rate messages/s offered as batches of 100 over the nodes for 30 s"
    local s0; s0=$(curl -s localhost:27751/state | python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"]["submits"])')
    local t0; t0=$(date +%s.%N)
    loads=""
    for i in $(seq 1 "$nodes"); do
      $LOAD --addr 127.0.0.1:$((PORT + i - 1)) --key "$KEY" --concurrency 4 --duration 30 --rate $((rate / nodes)) batches --items 100 > "$WORK/load$i.json" &
      loads="$loads $!"
    done
    wait $loads
    local s1; s1=$(curl -s localhost:27751/state | python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"]["submits"])')
    local t1; t1=$(date +%s.%N)
    python3 -c "import json,glob; print('offered and accepted: %d recipients/s' % sum(json.load(open(f))['recipients_per_s'] for f in glob.glob('$WORK/load*.json')))"
    python3 -c "print('submitted to the SMSC per second over the run: %d' % (($s1 - $s0) / ($t1 - $t0)))"
    rm -f "$WORK"/load*.json
    for p in $servers; do kill "$p"; wait "$p" 2>/dev/null || true; done
    smsc_stop
  done
}

case "${1:-all}" in
  messages) messages ;;
  batches) batches ;;
  e2e) e2e ;;
  smpp) smpp ;;
  webhooks) webhooks ;;
  memory) memory ;;
  dialect) dialect ;;
  cluster) cluster ;;
  all) messages; batches; e2e; smpp; webhooks; memory ;;
  *) echo "usage: $0 [messages|batches|e2e|smpp|webhooks|memory|dialect|cluster|all]" >&2; exit 2 ;;
esac
