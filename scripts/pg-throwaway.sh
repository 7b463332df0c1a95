#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on 127.0.0.1 for the test suite, and print its URL.
#
#   eval "$(scripts/pg-throwaway.sh start)"   # exports CASECLOCK_TEST_DATABASE_URL and PG_THROWAWAY_DIR
#   scripts/pg-throwaway.sh stop "$PG_THROWAWAY_DIR"
#
# Installs Debian's postgresql package if no server is present. The cluster lives in a temporary directory,
# trusts local connections only, and is owned by the `postgres` user when run as root (the server refuses
# to run as root).
set -euo pipefail

find_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
  done
  return 1
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

start() {
  local bin
  if ! bin=$(find_bin); then
    echo "installing PostgreSQL from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    bin=$(find_bin)
  fi
  local dir port
  dir=$(mktemp -d /tmp/caseclock-pg.XXXXXX)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  as_owner "'$bin/initdb' -D '$dir/data' -U postgres -A trust --no-sync -E UTF8 >'$dir/initdb.log' 2>&1"
  as_owner "'$bin/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -o \"-h 127.0.0.1 -p $port -k '$dir' -F\" start >/dev/null"
  as_owner "'$bin/createdb' -h 127.0.0.1 -p $port -U postgres caseclock_test"
  echo "export CASECLOCK_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:$port/caseclock_test"
  echo "export PG_THROWAWAY_DIR=$dir"
}

stop() {
  local dir=$1 bin
  bin=$(find_bin) || return 0
  [ -d "$dir/data" ] && as_owner "'$bin/pg_ctl' -D '$dir/data' -m fast -w stop >/dev/null" || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:?usage: pg-throwaway.sh stop DIR}" ;;
  *) echo "usage: pg-throwaway.sh start|stop DIR" >&2; exit 2 ;;
esac
