#!/bin/sh
# ctest entry point: node --test over tests/clients/*.test.mjs, after checking the clients are
# installed (scripts/install-deps.sh runs `npm ci` here).
node="$1"
dir="$2"
for c in claude codex gemini opencode; do
  if [ ! -x "$dir/node_modules/.bin/$c" ]; then
    echo "clients_test: $dir/node_modules/.bin/$c is missing." >&2
    echo "Run scripts/install-deps.sh (or: cd tests/clients && npm ci) first." >&2
    exit 1
  fi
done
cd "$dir" && exec "$node" --test --test-concurrency=1 ./*.test.mjs
