#!/usr/bin/env bash
# Soak run (loopback only): the mixed workload of tests/integration/hardening_soak_test.cpp for a
# chosen number of minutes — a SQLite relay, two local brokers with their connectors, direct HTTP
# clients doing register / heartbeat / send / send_room / poll — while the relay and the
# connectors are restarted (SIGTERM and SIGKILL). At the end every acknowledged message must be
# accounted for exactly once and the relay's idle fd count must be back to its starting level;
# the test prints the counts, fds and RSS (copy them into docs/reliability.md).
#   scripts/soak.sh [MINUTES]        default 5
# Builds build-soak/ (RelWithDebInfo, no sanitizers: the figures should be the product's).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
minutes="${1:-5}"
build_dir="${BUILD_DIR:-$here/build-soak}"
"$here/scripts/install-deps.sh" >&2
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  generator=()
  if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
  cmake -S "$here" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DC2C_BUILD_TESTS=ON -DC2C_BUILD_BENCH=OFF >&2
fi
cmake --build "$build_dir" --parallel "${C2C_BUILD_JOBS:-$(nproc)}" \
  --target c2c hardening_integration_test >&2
seconds=$(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 }')
echo "soak: ${minutes} min of load against $build_dir/src/c2c/cli/c2c" >&2
C2C_SOAK_SECONDS="$seconds" C2C_BIN="$build_dir/src/c2c/cli/c2c" \
  "$build_dir/tests/integration/hardening_integration_test" \
  --gtest_filter='HardeningSoak.*' --gtest_color=no
