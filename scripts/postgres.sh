#!/usr/bin/env bash
# A throw-away PostgreSQL server for the tests: a plain initdb/pg_ctl cluster in a temporary
# folder, listening only on a unix socket in that folder, owned by an unprivileged user.
#
#   bash scripts/postgres.sh run -- python -m pytest -q    # start, run with DATASHARE_TEST_DB_URL, stop
#   dir=$(mktemp -d); bash scripts/postgres.sh start "$dir"  # prints the SQLAlchemy URL
#   bash scripts/postgres.sh stop "$dir"                     # stops it and removes the folder
#
# It installs Debian's `postgresql` when no initdb is found (as root, or with sudo). initdb and the
# server refuse to run as root: as root the cluster belongs to the system user `datashare-pg`
# (created if missing); otherwise to the user running this. fsync is off: nothing here must survive
# a crash, and the tests run faster; DATASHARE_PG_DURABLE=1 keeps PostgreSQL's durable defaults
# (fsync, synchronous commit), for benchmarks that compare durable writes with SQLite's.
set -euo pipefail

PG_USER_NAME=datashare-pg  # the system account that owns the cluster when we run as root
DB_SUPERUSER=datashare     # the database role the tests connect as (trust auth on the socket only)

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

pg_bin() {
  local found
  if [ -x /usr/lib/postgresql/15/bin/initdb ]; then echo /usr/lib/postgresql/15/bin; return; fi
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$found" ] && [ -x "$found/initdb" ]; then echo "$found"; return; fi
  echo "postgres.sh: installing Debian's postgresql" >&2
  as_root apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -x "$found/initdb" ] || { echo "postgres.sh: no initdb after installing postgresql" >&2; exit 1; }
  echo "$found"
}

# Runs a command as the cluster's owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$PG_USER_NAME" -- "$@"; else "$@"; fi
}

start() {
  local dir=$1 bin
  bin=$(pg_bin)
  if [ "$(id -u)" -eq 0 ]; then
    id -u "$PG_USER_NAME" >/dev/null 2>&1 \
      || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$PG_USER_NAME"
    chown "$PG_USER_NAME" "$dir"
  fi
  chmod 700 "$dir"
  as_owner "$bin/initdb" -D "$dir/data" -U "$DB_SUPERUSER" --auth=trust --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  # Socket only (no TCP port to clash with), in our folder; enough connections for the tests'
  # concurrent writers; fsync off for a cluster nobody keeps (unless asked to be durable).
  local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${DATASHARE_PG_DURABLE:-}" = 1 ] && durability=""
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses='' -k $dir -c max_connections=300 $durability" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  echo "postgresql+psycopg://$DB_SUPERUSER@/postgres?host=$dir"
}

stop() {
  local dir=$1 bin
  if [ -f "$dir/data/postmaster.pid" ]; then
    bin=$(pg_bin)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) [ $# -eq 2 ] || { echo "usage: $0 start DIR" >&2; exit 2; }; start "$2" ;;
  stop) [ $# -eq 2 ] || { echo "usage: $0 stop DIR" >&2; exit 2; }; stop "$2" ;;
  run)
    shift
    [ "${1:-}" = "--" ] && shift
    [ $# -gt 0 ] || { echo "usage: $0 run -- COMMAND..." >&2; exit 2; }
    dir=$(mktemp -d /tmp/datashare-pg.XXXXXX)
    trap 'stop "$dir"' EXIT
    DATASHARE_TEST_DB_URL=$(start "$dir")
    export DATASHARE_TEST_DB_URL
    echo "postgres.sh: PostgreSQL at $DATASHARE_TEST_DB_URL" >&2
    set +e
    "$@"
    status=$?
    set -e
    exit $status
    ;;
  *) echo "usage: $0 start DIR | stop DIR | run -- COMMAND..." >&2; exit 2 ;;
esac
