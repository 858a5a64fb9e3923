#!/usr/bin/env bash
# Relay benchmarks on loopback, 32 keep-alive connections (docs/performance/relay.md).
#   BUILD_DIR=build-relay bench/relay/run_relay_bench.sh [hello|send-dev|send-signed|send-sqlite|rss|all]
#   ... run_relay_bench.sh [send-pg|send-pg-pairs|send-pg-signed|send-pg-two|cross-pg|pg]   (PostgreSQL: a
#   private server is started in a temp dir with tests/support/pg_fixture.sh, fsync on)
# Env: DURATION (s, default 10), CONNECTIONS (32), THREADS (relay I/O threads, default: cores),
#      LEASES (10000), MESSAGES (1000000), MESSAGE_IDS (1: every /send carries a fresh id).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${BUILD_DIR:-$here/build}"
c2c="$build/src/c2c/cli/c2c"
load="$build/bench/load/c2c_load"
fill="$build/bench/relay/c2c_relay_fill"
duration="${DURATION:-10}"
connections="${CONNECTIONS:-32}"
threads_args=()
if [ -n "${THREADS:-}" ]; then threads_args=(--threads "$THREADS"); fi
content="$(printf 'x%.0s' $(seq 1 100))"  # 100-byte message
tmp="$(mktemp -d)"
relay_pid=""
cleanup() {
  if [ -n "$relay_pid" ]; then kill -TERM "$relay_pid" 2>/dev/null || true; wait "$relay_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap 'cleanup; stop_pg' EXIT

pg_dir=""
pg_url=""
start_pg() {
  pg_dir="$tmp/pg"
  PG_FSYNC=on "$here/tests/support/pg_fixture.sh" start "$pg_dir" >/dev/null
  pg_url="postgresql://c2c@/postgres?host=$(cat "$pg_dir/server")"
}
stop_pg() {
  if [ -n "$pg_dir" ]; then "$here/tests/support/pg_fixture.sh" stop "$pg_dir"; pg_dir=""; fi
}
start_relay() {
  env -u C2C_RELAY_TOKEN -u C2C_RELAY_PERSIST_DIR "$c2c" relay serve --listen 127.0.0.1:0 \
    "${threads_args[@]}" "$@" > "$tmp/out" 2> "$tmp/err" &
  relay_pid=$!
  for _ in $(seq 1 200); do
    if grep -q '^c2c relay serving on ' "$tmp/out" 2>/dev/null; then break; fi
    sleep 0.05
  done
  url="$(sed -n 's/^c2c relay serving on \(http[^ ]*\).*/\1/p' "$tmp/out")"
  [ -n "$url" ] || { cat "$tmp/err"; exit 1; }
}
stop_relay() {
  kill -TERM "$relay_pid"; wait "$relay_pid" || true; relay_pid=""
}
# CPU seconds (user+sys) the relay has used so far.
relay_cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$relay_pid/stat"; }
# CPU seconds the PostgreSQL server's processes (comm "postgres") have used so far; 0 without one.
# The relay's pooled connections live as long as the relay, so their backends are all counted.
pg_cpu() {
  if [ -z "$pg_dir" ]; then echo 0; return; fi
  local stats=() pid
  for pid in $(pgrep -x postgres); do stats+=("/proc/$pid/stat"); done
  # A process that exits meanwhile is skipped (awk reports the missing file and goes on).
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); t += $12 + $13 }
    END { printf "%.3f", t / hz }' "${stats[@]}" 2>/dev/null || true
}

# Runs c2c_load and reports, besides its own output, the CPU time per request of the relay and
# of the load generator: on a shared machine wall-clock req/s depends on the neighbours, CPU per
# request does not. "2-core projection" = 2 cores / (relay + generator CPU per request).
run_load() {
  local before after pg_before pg_after
  before="$(relay_cpu)"
  pg_before="$(pg_cpu)"
  local TIMEFORMAT="%U %S"
  { time "$load" "$@" > "$tmp/load.txt"; } 2> "$tmp/load_time.txt"
  after="$(relay_cpu)"
  pg_after="$(pg_cpu)"
  cat "$tmp/load.txt"
  local requests
  requests="$(sed -n 's/^requests: \([0-9]*\) .*/\1/p' "$tmp/load.txt")"
  read -r lu ls < "$tmp/load_time.txt"
  awk -v r="$requests" -v b="$before" -v a="$after" -v lu="$lu" -v ls="$ls" 'BEGIN {
    relay = (a - b) / r * 1e6; gen = (lu + ls) / r * 1e6;
    printf "cpu per request: relay %.1f us, load generator %.1f us; 2-core projection %.0f req/s\n",
           relay, gen, 2e6 / (relay + gen) }'
  if [ -n "$pg_dir" ]; then
    awk -v r="$requests" -v b="$pg_before" -v a="$pg_after" 'BEGIN {
      printf "cpu per request: PostgreSQL server %.1f us\n", (a - b) / r * 1e6 }'
  fi
  if [[ "$1" == */send ]]; then report_queued "$requests"; fi
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# How many messages the relay queued (its c2c_relay_messages_sent_total counter) against the
# requests sent: a /send answered "duplicate" is not queued, so the figure shows whether the run
# measured real sends (the hello baseline has no such counter and prints nothing).
report_queued() {
  local auth=() queued
  if [ -f "$tmp/token" ]; then auth=(-H "Authorization: Bearer $(cat "$tmp/token")"); fi
  queued="$(curl -s "${auth[@]}" "${url%/}/metrics" |
    awk '$1 == "c2c_relay_messages_sent_total" { print $2 }')"
  if [ -n "$queued" ]; then echo "queued by the relay: $queued of $1 requests"; fi
}
# Each /send carries a fresh message_id, as a connector's do: the relay checks and remembers it in
# its dedup window (MESSAGE_IDS=0 sends none; the relay then makes one up and the window is not
# involved).
send_body() {
  if [ "${MESSAGE_IDS:-1}" = 0 ]; then
    printf '{"from_alias":"%s","to_alias":"bob","content":"%s"}' "$1" "$content"
  else
    printf '{"from_alias":"%s","to_alias":"bob","content":"%s","message_id":"{id}"}' "$1" "$content"
  fi
}

bench_send_dev() {
  echo "== POST /send, dev mode, memory storage"
  start_relay
  "$fill" register --url "$url" --alias bob --node nb --session sb > /dev/null
  run_load "$url/send" -m POST -b "$(send_body alice)" -c "$connections" -d "$duration"
  stop_relay
}

bench_send_signed() {
  echo "== POST /send, prod mode (every request Ed25519-signed), memory storage"
  (umask 077; printf 'bench-token\n' > "$tmp/token")
  start_relay --token-file "$tmp/token"
  "$fill" identity --out "$tmp/identity.json" > /dev/null
  "$fill" register --url "$url" --alias alice --identity "$tmp/identity.json" --node na --session sa > /dev/null
  "$fill" register --url "$url" --alias bob --node nb --session sb > /dev/null
  run_load "$url/send" -m POST -b "$(send_body alice)" -c "$connections" -d "$duration" \
    --sign-identity "$tmp/identity.json" --sign-alias alice
  stop_relay
}

bench_send_sqlite() {
  echo "== POST /send, dev mode, SQLite storage (acknowledged after commit)"
  start_relay --storage sqlite --db-path "$tmp/relay.db"
  "$fill" register --url "$url" --alias bob --node nb --session sb > /dev/null
  run_load "$url/send" -m POST -b "$(send_body alice)" -c "$connections" -d "$duration"
  stop_relay
}

bench_send_pg() {
  echo "== POST /send, dev mode, PostgreSQL storage, one relay (acknowledged after commit)"
  start_pg
  start_relay --storage postgres --db-url "$pg_url"
  "$fill" register --url "$url" --alias bob --node nb --session sb > /dev/null
  run_load "$url/send" -m POST -b "$(send_body alice)" -c "$connections" -d "$duration"
  stop_relay
  stop_pg
}

# Many pairs: 32 senders to 32 recipients ({slot} cycles request by request), so direct messages
# that do not meet (another sender, another inbox) commit side by side.
bench_send_pg_pairs() {
  echo "== POST /send, dev mode, PostgreSQL storage, one relay, 32 sender/recipient pairs"
  start_pg
  start_relay --storage postgres --db-url "$pg_url"
  for i in $(seq 0 31); do
    "$fill" register --url "$url" --alias "r$i" --node nb --session "sb$i" > /dev/null
  done
  run_load "$url/send" -m POST --slots 32 \
    -b "$(printf '{"from_alias":"s{slot}","to_alias":"r{slot}","content":"%s","message_id":"{id}"}' "$content")" \
    -c "$connections" -d "$duration"
  stop_relay
  stop_pg
}

bench_send_pg_signed() {
  echo "== POST /send, prod mode (signed), PostgreSQL storage, one relay"
  start_pg
  (umask 077; printf 'bench-token\n' > "$tmp/token")
  start_relay --token-file "$tmp/token" --storage postgres --db-url "$pg_url"
  "$fill" identity --out "$tmp/identity.json" > /dev/null
  "$fill" register --url "$url" --alias alice --identity "$tmp/identity.json" --node na --session sa > /dev/null
  "$fill" register --url "$url" --alias bob --node nb --session sb > /dev/null
  run_load "$url/send" -m POST -b "$(send_body alice)" -c "$connections" -d "$duration" \
    --sign-identity "$tmp/identity.json" --sign-alias alice
  stop_relay
  stop_pg
}

bench_send_pg_two() {
  echo "== POST /send, dev mode, PostgreSQL storage, two relay processes (half the connections each)"
  start_pg
  start_relay --storage postgres --db-url "$pg_url"
  local url1=$url pid1=$relay_pid
  cp "$tmp/out" "$tmp/out1"
  start_relay --storage postgres --db-url "$pg_url"
  local url2=$url
  "$fill" register --url "$url1" --alias bob --node nb --session sb > /dev/null
  local half=$(( connections / 2 ))
  "$load" "$url1/send" -m POST -b "$(send_body alice)" -c "$half" -d "$duration" > "$tmp/l1.txt" &
  local p1=$!
  "$load" "$url2/send" -m POST -b "$(send_body carol)" -c "$half" -d "$duration" > "$tmp/l2.txt"
  wait $p1
  echo "-- relay 1:"; cat "$tmp/l1.txt"
  echo "-- relay 2:"; cat "$tmp/l2.txt"
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  stop_relay
  kill -TERM "$pid1"; wait "$pid1" || true
  stop_pg
}

bench_cross_pg() {
  echo "== cross-relay delivery: /send on relay 1, /stream waiting on relay 2 (PostgreSQL, LISTEN/NOTIFY)"
  start_pg
  start_relay --storage postgres --db-url "$pg_url"
  local url1=$url pid1=$relay_pid
  start_relay --storage postgres --db-url "$pg_url"
  "$fill" cross --send-url "$url1" --stream-url "$url" --samples "${SAMPLES:-500}"
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  stop_relay
  kill -TERM "$pid1"; wait "$pid1" || true
  stop_pg
}

bench_hello() {
  echo "== baseline: c2c_http_hello (HttpServer answering a constant), same POST body"
  "$build/bench/load/c2c_http_hello" --threads "${THREADS:-$(nproc)}" > "$tmp/out" 2> "$tmp/err" &
  relay_pid=$!
  for _ in $(seq 1 200); do
    if grep -q 'http://' "$tmp/out" 2>/dev/null; then break; fi
    sleep 0.05
  done
  url="$(grep -o 'http://[0-9.:]*' "$tmp/out" | head -1)"
  run_load "$url/send" -m POST -b "$(send_body alice)" -c "$connections" -d "$duration"
  stop_relay
}

bench_rss() {
  echo "== relay RSS with ${LEASES:-10000} leases and ${MESSAGES:-1000000} queued 100-byte messages (memory)"
  start_relay
  echo "idle relay VmRSS: $(grep VmRSS /proc/$relay_pid/status)"
  "$fill" fill --url "$url" --leases "${LEASES:-10000}" --messages "${MESSAGES:-1000000}" \
    --content-bytes 100 --connections 8 --pid "$relay_pid"
  stop_relay
}

case "${1:-all}" in
  hello) bench_hello ;;
  send-dev) bench_send_dev ;;
  send-signed) bench_send_signed ;;
  send-sqlite) bench_send_sqlite ;;
  rss) bench_rss ;;
  send-pg) bench_send_pg ;;
  send-pg-pairs) bench_send_pg_pairs ;;
  send-pg-signed) bench_send_pg_signed ;;
  send-pg-two) bench_send_pg_two ;;
  cross-pg) bench_cross_pg ;;
  pg) bench_send_pg; bench_send_pg_pairs; bench_send_pg_signed; bench_send_pg_two; bench_cross_pg ;;
  all) bench_hello; bench_send_dev; bench_send_signed; bench_send_sqlite; bench_rss ;;
  *) echo "usage: $0 [hello|send-dev|send-signed|send-sqlite|rss|all|send-pg|send-pg-pairs|send-pg-signed|send-pg-two|cross-pg|pg]" >&2; exit 2 ;;
esac
