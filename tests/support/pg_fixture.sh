#!/usr/bin/env bash
# ctest fixture c2c_pg: one private PostgreSQL server for the whole test run, so each test that
# needs one creates a database (a few ms) instead of starting a server (seconds).
#   pg_fixture.sh start DIR   initdb (once) + pg_ctl start, Unix socket in DIR only (no TCP)
#   pg_fixture.sh stop DIR    pg_ctl stop, DIR removed
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
case "$action" in
  start)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_server "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    chmod 700 "$dir"
    if [ "$(id -u)" -eq 0 ]; then chown 65534:65534 "$dir"; fi
    (cd / && as_server "$bindir/initdb" -D "$dir/data" -U c2c -A trust -E UTF8 --locale=C \
      --no-sync --no-instructions >"$dir/initdb.log" 2>&1) || { cat "$dir/initdb.log" >&2; exit 1; }
    # fsync off for tests: their data need not survive a machine crash (a fast shutdown keeps
    # every commit). Benchmarks set PG_FSYNC=on to measure what a deployment pays.
    (cd / && as_server "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
      -o "-k $dir -c listen_addresses= -c fsync=${PG_FSYNC:-off} -c max_connections=300" start >/dev/null) ||
      { cat "$dir/log" >&2; exit 1; }
    echo "c2c_pg: PostgreSQL running, socket in $dir"
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      (cd / && as_server "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null)
    fi
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
