#!/usr/bin/env bash
# Builds and runs the whole test suite (unit, conformance, integration, e2e, mcp, fuzz smoke)
# under AddressSanitizer + UndefinedBehaviorSanitizer. Installs its own dependencies.
#   scripts/test.sh                 # everything
#   scripts/test.sh -L unit         # extra args go to ctest
#   C2C_TEST_SANITIZE= scripts/test.sh   # plain build (no sanitizers)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/scripts/install-deps.sh"
sanitize="${C2C_TEST_SANITIZE-address}"
build_dir="${BUILD_DIR:-$here/build-test}"
# -O0 -g1: sanitizer builds of JSON-heavy code compile ~4x faster than -O2 -g on 2 cores, and the
# suite is I/O-bound. Benchmarks are measured from a Release build (docs/performance.md).
BUILD_DIR="$build_dir" BUILD_TYPE=Debug "$here/scripts/build.sh" -DC2C_SANITIZE="$sanitize" \
  -DC2C_BUILD_TESTS=ON -DC2C_BUILD_BENCH=ON -DC2C_WERROR=ON -DCMAKE_CXX_FLAGS_DEBUG="-O0 -g1"
# The portable-binary test (portable_binary_test) runs the release build from build-release/;
# building it takes several minutes on 2 cores, so only C2C_TEST_PORTABLE=1 builds it here
# (without it the test uses an existing build-release/ or is skipped, saying so).
if [ "${C2C_TEST_PORTABLE:-0}" = "1" ]; then
  "$here/scripts/build-release.sh"
fi
# Memory errors and undefined behaviour fail the suite. Leak checking at process exit is off by
# default here (the tests kill servers and clients on purpose); the fuzz targets run with
# LeakSanitizer (scripts/fuzz.sh). ASAN_OPTIONS=detect_leaks=1 scripts/test.sh turns it on.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
cd "$build_dir"
status=0
ctest --output-on-failure --parallel "$(nproc)" --timeout 600 "$@" || status=$?
# Then every libFuzzer target (clang-14, ASan+UBSan+LeakSanitizer) fuzzes for a short bounded
# time from its committed corpus and regressions; longer runs: scripts/fuzz.sh SECONDS.
# C2C_TEST_FUZZ_SECONDS=0 skips this part; it is skipped too when ctest was given a selection.
fuzz_seconds="${C2C_TEST_FUZZ_SECONDS-10}"
if [ "$fuzz_seconds" != "0" ] && [ $# -eq 0 ]; then
  echo "== fuzzing each target for ${fuzz_seconds}s (scripts/fuzz.sh)"
  # The fuzzers keep LeakSanitizer on (the suite above turned it off for killed processes).
  ASAN_OPTIONS="detect_leaks=1" FUZZ_BUILD_DIR="${FUZZ_BUILD_DIR:-$here/build-test-fuzz}" \
    "$here/scripts/fuzz.sh" "$fuzz_seconds" || status=1
fi
exit "$status"
