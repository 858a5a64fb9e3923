#!/usr/bin/env bash
# ThreadSanitizer run of the threaded parts: builds build-tsan/ with -DC2C_SANITIZE=thread and
# runs the relay, store and net tests (the relay process of the integration tests is the TSan
# build too, so races inside `c2c relay serve` fail those tests: a report makes it exit 66).
#   scripts/sanitize.sh                # the default selection below
#   scripts/sanitize.sh -R Slowloris   # extra args go to ctest (they replace the selection)
# Exit status is ctest's. Reports are in build-tsan/Testing/Temporary/LastTest.log and on the
# relay children's stderr (printed by the failing test).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BUILD_DIR:-$here/build-tsan}"
"$here/scripts/install-deps.sh" >&2
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  generator=()
  if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
  # -O1: TSan at -O0 is several times slower and the suite is already bounded by 2 cores.
  cmake -S "$here" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DC2C_SANITIZE=thread -DC2C_BUILD_TESTS=ON \
    -DC2C_BUILD_BENCH=OFF >&2
fi
targets=(c2c relay_server_test relay_store_test store_conformance_test net_test
         relay_integration_test relay_fault_injection_test security_integration_test)
available=()
for t in "${targets[@]}"; do
  if cmake --build "$build_dir" --target help 2>/dev/null | grep -q "^$t:"; then available+=("$t"); fi
done
cmake --build "$build_dir" --parallel "${C2C_BUILD_JOBS:-$(nproc)}" --target "${available[@]}" >&2
# halt_on_error=0: collect every race of a run; exitcode=66 makes any report fail the process.
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=0:exitcode=66:second_deadlock_stack=1:history_size=4}"
cd "$build_dir"
if [ $# -eq 0 ]; then
  set -- -R '^(RelayAuth|RelayLimits|RelayService|RelayRooms|RelayProtocol|Sqlite|StoreConformance|OpenStore|MemoryStore|HttpServer|HttpClient|ServerLimits|ServerStop|Tls|RelayServe|RelayAuthMatrix|RelayBadInput|RelaySqliteRestart|RelayFaultInjection|RelaySqliteKill|RelaySlowloris|SecurityReview)'
fi
ctest --output-on-failure --parallel "$(nproc)" --timeout 900 "$@"
