#!/bin/sh
# ctest entry point: node --test over tests/mcp/*.test.mjs, after checking the SDK is installed.
node="$1"
dir="$2"
if [ ! -d "$dir/node_modules/@modelcontextprotocol/sdk" ]; then
  echo "mcp_sdk_test: $dir/node_modules is missing." >&2
  echo "Run scripts/install-deps.sh (or: cd tests/mcp && npm ci) first." >&2
  exit 1
fi
cd "$dir" && exec "$node" --test --test-concurrency=1 ./*.test.mjs
