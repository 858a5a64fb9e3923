#!/usr/bin/env bash
# The main job: installs dependencies, builds c2c (Release, portable: scripts/build-release.sh)
# and runs the relay server with its default embedded storage. Arguments are passed to
# `c2c relay serve`, e.g.
#   scripts/run-relay.sh --listen 127.0.0.1:7331 --token "$TOKEN" --gc-interval 300
#   scripts/run-relay.sh --storage sqlite --db-path relay.db
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$here/build-release}" "$here/scripts/build-release.sh" >&2
exec "${BUILD_DIR:-$here/build-release}/src/c2c/cli/c2c" relay serve "$@"
