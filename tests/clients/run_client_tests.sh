#!/bin/sh
# ctest entry point: node --test over tests/clients/*.test.mjs, after checking the clients are
# installed (scripts/install-deps.sh runs `npm ci` here). Missing clients are a failure, except
# when the npm registry cannot be reached: then the test says so loudly and exits 77 (ctest
# reports it as skipped, SKIP_RETURN_CODE in CMakeLists.txt).
node="$1"
dir="$2"
for c in claude codex gemini opencode; do
  if [ ! -x "$dir/node_modules/.bin/$c" ]; then
    if command -v npm >/dev/null 2>&1 &&
       ! timeout 30 npm ping --fetch-retries=0 --fetch-timeout=15000 >/dev/null 2>&1; then
      echo "################################################################" >&2
      echo "clients_test: SKIPPED: $dir/node_modules/.bin/$c is missing and the npm" >&2
      echo "registry is unreachable, so the real agent clients cannot be installed." >&2
      echo "The c2c install/uninstall results were NOT checked against the real clients." >&2
      echo "################################################################" >&2
      exit 77
    fi
    echo "clients_test: $dir/node_modules/.bin/$c is missing." >&2
    echo "Run scripts/install-deps.sh (or: cd tests/clients && npm ci) first." >&2
    exit 1
  fi
done
cd "$dir" && exec "$node" --test --test-concurrency=1 ./*.test.mjs
