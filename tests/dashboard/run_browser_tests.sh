#!/bin/sh
# ctest entry point for the dashboard browser test. Exit 77 (ctest: skipped) when Debian's
# chromium or the npm packages are missing, saying which.
node="$1"
dir="$2"
chromium="${C2C_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "SKIPPED: $chromium not found (Debian package chromium; scripts/install-deps.sh)" >&2
  exit 77
fi
if [ ! -d "$dir/node_modules/playwright-core" ]; then
  echo "SKIPPED: $dir/node_modules is missing (scripts/install-deps.sh, or: cd tests/dashboard && npm ci)" >&2
  exit 77
fi
cd "$dir" && exec "$node" --test --test-concurrency=1 ./*.test.mjs
