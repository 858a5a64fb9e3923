#!/usr/bin/env bash
# Configures and builds c2c into BUILD_DIR (default build/). Extra args go to cmake configure.
#   BUILD_DIR=build-asan scripts/build.sh -DC2C_SANITIZE=address
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BUILD_DIR:-$here/build}"
build_type="${BUILD_TYPE:-RelWithDebInfo}"
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S "$here" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE="$build_type" "$@"
elif [ $# -gt 0 ]; then
  cmake -S "$here" -B "$build_dir" "$@"
fi
jobs="${C2C_BUILD_JOBS:-$(nproc)}"
cmake --build "$build_dir" --parallel "$jobs"
