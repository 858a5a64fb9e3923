#!/usr/bin/env bash
# ctest fixture c2c_pg: one private PostgreSQL server for the whole test run, so each test that
# needs one creates a database (a few ms) instead of starting a server (seconds).
#   pg_fixture.sh start DIR   initdb + pg_ctl start in a new /tmp/c2c-pg-* directory, Unix
#                             socket there only (no TCP); DIR/server names that directory
#   pg_fixture.sh stop DIR    pg_ctl stop, both directories removed
# As root the server runs as nobody (PostgreSQL refuses root). Without Debian's postgresql-15 the
# start step says so loudly and succeeds: the tests then skip, each with the same message.
set -euo pipefail
action=$1
dir=$2
bindir=""
for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
  if [ -x "$d/pg_ctl" ]; then bindir=$d; break; fi
done
if [ -z "$bindir" ]; then
  echo "########## PostgreSQL server binaries not found: PostgreSQL tests will be SKIPPED" \
       "(scripts/install-deps.sh installs postgresql-15) ##########" >&2
  exit 0
fi
as_server() {
  if [ "$(id -u)" -eq 0 ]; then
    /usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"
  else
    "$@"
  fi
}
# Stops the server $dir/server names, if any, and removes its directory.
stop_server() {
  local srv
  srv="$(cat "$1/server" 2>/dev/null || true)"
  [ -n "$srv" ] || return 0
  if [ -f "$srv/data/postmaster.pid" ]; then
    (cd / && as_server "$bindir/pg_ctl" -D "$srv/data" -m fast -w stop >/dev/null) || true
  fi
  rm -rf "$srv"
}
case "$action" in
  start)
    stop_server "$dir"
    rm -rf "$dir"
    mkdir -p "$dir"
    # The server's own directory is under /tmp, which `nobody` can always reach (the build
    # directory may sit under a home directory others cannot enter); $dir/server names it.
    srv="$(mktemp -d /tmp/c2c-pg-XXXXXX)"
    echo "$srv" > "$dir/server"
    chmod 700 "$srv"
    if [ "$(id -u)" -eq 0 ]; then chown 65534:65534 "$srv"; fi
    (cd / && as_server "$bindir/initdb" -D "$srv/data" -U c2c -A trust -E UTF8 --locale=C \
      --no-sync --no-instructions >"$dir/initdb.log" 2>&1) || { cat "$dir/initdb.log" >&2; exit 1; }
    # fsync off for tests: their data need not survive a machine crash (a fast shutdown keeps
    # every commit). Benchmarks set PG_FSYNC=on to measure what a deployment pays.
    (cd / && as_server "$bindir/pg_ctl" -D "$srv/data" -l "$srv/log" -w -t 60 \
      -o "-k $srv -c listen_addresses= -c fsync=${PG_FSYNC:-off} -c max_connections=300" start >/dev/null) ||
      { cat "$srv/log" >&2; exit 1; }
    echo "c2c_pg: PostgreSQL running, socket in $srv"
    ;;
  stop)
    stop_server "$dir"
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
