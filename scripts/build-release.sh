#!/usr/bin/env bash
# Builds the portable release binary into build-release/ (BUILD_DIR overrides): everything but
# glibc is linked statically from Debian's own static libraries (C2C_PORTABLE, on by default for
# release builds), so build-release/src/c2c/cli/c2c runs on any glibc system, e.g. mounted into
# debian:stable-slim. Extra args go to cmake configure. Prints what the binary links at the end.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
C2C_SKIP_NPM=1 "$here/scripts/install-deps.sh"
build_dir="${BUILD_DIR:-$here/build-release}"
BUILD_DIR="$build_dir" BUILD_TYPE=Release "$here/scripts/build.sh" -DC2C_BUILD_TESTS=OFF \
  -DC2C_BUILD_BENCH=OFF -DC2C_PORTABLE=ON "$@" >&2
echo "build-release: $build_dir/src/c2c/cli/c2c links:" >&2
ldd "$build_dir/src/c2c/cli/c2c" >&2
