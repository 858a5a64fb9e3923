#!/usr/bin/env bash
# Installs everything c2c needs to build, run and test on Debian 12.
# Idempotent: packages already present are not reinstalled; npm runs only when
# the test client's node_modules are missing or older than the lockfile.
set -euo pipefail

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libboost-dev libboost-system-dev libboost-program-options-dev
  libssl-dev libsodium-dev libsqlite3-dev sqlite3 libtomlplusplus-dev
  libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-nacl openssl curl xxd
  clang-14 libclang-rt-14-dev clang-format-14 clang-tidy-14
  iproute2 procps
  systemd chromium nginx haproxy
  libpq-dev postgresql-15
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js may come from another Debian-compatible package that bundles npm: check the commands.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Node test tools, pinned by their lockfiles: the official MCP TypeScript SDK client
# (tests/mcp), playwright-core for the dashboard browser test (tests/dashboard; it drives Debian's
# chromium and downloads no browser) and the real agent clients that read `c2c install`'s files
# (tests/clients, ~1.2 GB of node_modules the first time). node_modules is kept between runs and `npm ci` runs again
# only when the lockfile is newer; npm's own cache (~/.npm) makes a re-run download nothing.
# The one exception: when the npm registry cannot be reached, tests/clients is left out with a
# loud warning (npm would otherwise retry every package for many minutes) and
# clients_real_test reports itself skipped. Any npm failure with the registry reachable stops
# here.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
registry_reachable() {
  timeout 30 npm ping --fetch-retries=0 --fetch-timeout=15000 >/dev/null 2>&1
}
if [ "${C2C_SKIP_NPM:-0}" != "1" ]; then
  for d in tests/mcp tests/dashboard tests/clients; do
    [ -f "$here/$d/package.json" ] || continue
    if [ ! -d "$here/$d/node_modules" ] || \
       [ "$here/$d/package-lock.json" -nt "$here/$d/node_modules" ]; then
      if [ "$d" = tests/clients ] && ! registry_reachable; then
        echo "install-deps: ################################################################" >&2
        echo "install-deps: WARNING: the npm registry ($(npm config get registry)) is" >&2
        echo "install-deps: unreachable, so the real agent clients (tests/clients) are NOT" >&2
        echo "install-deps: installed or updated and clients_real_test will be SKIPPED." >&2
        echo "install-deps: ################################################################" >&2
        continue
      fi
      # tests/clients: opencode-ai lists optional binaries for every platform, and the registry
      # this project installs from does not carry the non-Linux ones, so the lockfile cannot list
      # them and `npm ci` refuses it as out of sync. `npm install` installs exactly the locked
      # versions, skips the optional packages it cannot get, and leaves the lockfile as it is.
      if [ "$d" = tests/clients ]; then
        echo "install-deps: npm install (locked versions) in $d" >&2
        (cd "$here/$d" && npm install --no-audit --no-fund --loglevel=error && touch node_modules)
      else
        echo "install-deps: npm ci in $d" >&2
        (cd "$here/$d" && npm ci --no-audit --no-fund --loglevel=error && touch node_modules)
      fi
    fi
  done
fi
