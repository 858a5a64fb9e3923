#!/usr/bin/env bash
# Soak run (loopback only): the mixed workload of tests/integration/soak_test.cpp for a
# chosen number of minutes — a SQLite relay, two local brokers with their connectors, direct HTTP
# clients doing register / heartbeat / send / send_room / poll — while the relay and the
# connectors are restarted (SIGTERM and SIGKILL). At the end every acknowledged message must be
# accounted for exactly once and the relay's idle fd count must be back to its starting level;
# the test prints the counts, fds and RSS (copy them into docs/reliability.md).
#   scripts/soak.sh [MINUTES] [chaos|steady]     default 5 minutes, chaos
# chaos: the relay is restarted every 5 s (alternately SIGTERM / SIGKILL), a connector every 4 s.
# steady: one relay process for the whole run (connectors still restarted); its RSS and fd count
#         must not keep growing over the second half.
# Builds build-soak/ (RelWithDebInfo, no sanitizers: the figures should be the product's).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
minutes="${1:-5}"
mode="${2:-chaos}"
case "$mode" in
  chaos) relay_restarts=1 ;;
  steady) relay_restarts=0 ;;
  *) echo "error: mode must be chaos or steady, not '$mode'" >&2; exit 2 ;;
esac
build_dir="${BUILD_DIR:-$here/build-soak}"
"$here/scripts/install-deps.sh" >&2
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  generator=()
  if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
  cmake -S "$here" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DC2C_BUILD_TESTS=ON -DC2C_BUILD_BENCH=OFF >&2
fi
cmake --build "$build_dir" --parallel "${C2C_BUILD_JOBS:-$(nproc)}" \
  --target c2c soak_test >&2
seconds=$(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 }')
echo "soak ($mode): ${minutes} min of load against $build_dir/src/c2c/cli/c2c" >&2
C2C_SOAK_SECONDS="$seconds" C2C_SOAK_RELAY_RESTARTS="$relay_restarts" \
  C2C_BIN="$build_dir/src/c2c/cli/c2c" \
  "$build_dir/tests/integration/soak_test" \
  --gtest_filter='Soak.*' --gtest_color=no
