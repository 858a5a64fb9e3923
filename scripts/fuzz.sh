#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-14 (ASan+UBSan+fuzzer) in build-fuzz/ and runs each for
# a chosen time on a copy of its committed seed corpus.
#   scripts/fuzz.sh [SECONDS] [TARGET...]     default 60 s per target, every target
# Prints one line per target with its executions; crashing inputs are saved under
# build-fuzz/fuzz-artifacts/<target>/ (copy them to tests/fuzz/regressions/<target>/ once fixed).
# Exit status is non-zero if any target crashed, leaked or timed out.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

run_one() {  # binary name seconds
  local bin="$1" name="$2" seconds="$3"
  local base; base="$(dirname "$(dirname "$(dirname "$bin")")")"
  local work="$base/fuzz-work/$name" art="$base/fuzz-artifacts/$name"
  mkdir -p "$work" "$art"
  local seed="$here/tests/fuzz/corpus/$name" regress="$here/tests/fuzz/regressions/$name"
  local log="$work.log"
  set +e
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$art/" "$work" "$seed" "$regress" >"$log" 2>&1
  local rc=$?
  set -e
  local execs; execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  local corpus; corpus=$(find "$work" -type f | wc -l)
  if [ $rc -eq 0 ]; then
    echo "fuzz $name: ok, ${execs:-0} executions in ${seconds}s, corpus $corpus new inputs"
  else
    echo "fuzz $name: FAILED (exit $rc) after ${execs:-0} executions; log $log, inputs in $art"
    tail -n 30 "$log"
  fi
  return $rc
}

if [ "${1:-}" = "--run-only" ]; then
  run_one "$2" "$3" "$4"
  exit $?
fi

seconds="${1:-60}"
shift || true
build="${FUZZ_BUILD_DIR:-$here/build-fuzz}"
"$here/scripts/install-deps.sh" >&2
if [ ! -f "$build/CMakeCache.txt" ]; then
  CC=clang-14 CXX=clang++-14 cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DC2C_FUZZ=ON -DC2C_SANITIZE=address \
    -DC2C_BUILD_BENCH=OFF -DC2C_FUZZ_SECONDS="$seconds" >&2
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cd "$here/tests/fuzz" && ls ./*_fuzz.cpp | sed 's#^\./##; s#_fuzz\.cpp$##')
fi
build_targets=()
for t in "${targets[@]}"; do build_targets+=("fuzz_$t"); done
cmake --build "$build" --parallel "${C2C_BUILD_JOBS:-$(nproc)}" --target "${build_targets[@]}" >&2
status=0
for t in "${targets[@]}"; do
  run_one "$build/tests/fuzz/fuzz_$t" "$t" "$seconds" || status=1
done
exit $status
