#!/usr/bin/env bash
# Baseline of c2c's HttpServer: c2c_http_hello under c2c_load (and wrk when installed), 32
# keep-alive connections, plus the server's CPU time per request (robust on a shared machine).
#   bench/load/hello_baseline.sh [build-dir] [server-threads] [seconds]
set -euo pipefail
build="${1:-build}"
threads="${2:-1}"
seconds="${3:-5}"
bin="$build/bench/load"
out="$(mktemp)"
"$bin/c2c_http_hello" --threads "$threads" >"$out" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 100); do grep -q listening "$out" && break; sleep 0.05; done
url="$(grep -o 'http://[^ ]*' "$out")"
cpu() { awk '{print $14 + $15}' "/proc/$server/stat"; }  # utime + stime, clock ticks
hz="$(getconf CLK_TCK)"

echo "== c2c_http_hello --threads $threads, $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
before="$(cpu)"
report="$("$bin/c2c_load" "$url/" -c 32 -d "$seconds" --json)"
after="$(cpu)"
echo "c2c_load -c 32 -d $seconds: $report"
python3 - "$report" "$before" "$after" "$hz" <<'PY'
import json, sys
r = json.loads(sys.argv[1]); ticks = float(sys.argv[3]) - float(sys.argv[2]); hz = float(sys.argv[4])
print(f"  {r['rps']:.0f} req/s, p50 {r['latency_ms']['p50']:.3f} ms, p90 {r['latency_ms']['p90']:.3f} ms, "
      f"p99 {r['latency_ms']['p99']:.3f} ms, errors {r['errors']}; "
      f"server CPU {ticks / hz * 1e6 / max(r['requests'], 1):.2f} us/request")
PY
if command -v wrk >/dev/null; then
  echo "wrk -t1 -c32 -d${seconds}s --latency:"
  wrk -t1 -c32 -d"${seconds}s" --latency "$url/" | grep -E "Requests/sec|50%|90%|99%|Socket errors" || true
fi

echo "== 1000 stalled half-requests (slowloris) beside 4 normal keep-alive clients"
"$bin/c2c_load" "$url/" -c 4 -d "$seconds" --idle-connections 1000 | sed 's/^/  /'
