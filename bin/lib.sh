# Shared by the bin/ scripts: where things live and how to find the machine's binaries.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
export PATH="$VENV/bin:$PATH"
# Runtime files of one `make run` (ready marker, nginx, beat schedule).
export RUN_DIR="${RUN_DIR:-$ROOT/.var/run}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] && [ -x "$d/initdb" ] && { echo "$d"; return; }
  return 1
}

# PostgreSQL refuses to run as root, so the private cluster runs as this user.
PG_OS_USER="${PG_OS_USER:-postgres}"

as_pg_user() {
  if [ "$(id -u)" = 0 ]; then
    setpriv --reuid="$PG_OS_USER" --regid="$PG_OS_USER" --init-groups -- "$@"
  else
    "$@"
  fi
}

# The cluster's user must be able to reach its data directory: give every parent
# directory the traverse bit it lacks (a clone under `mktemp -d` sits in a 0700 folder).
open_path_for_pg_user() {
  [ "$(id -u)" = 0 ] || return 0
  local d="$1"
  while [ "$d" != "/" ]; do
    if ! setpriv --reuid="$PG_OS_USER" --regid="$PG_OS_USER" --init-groups -- test -x "$d" 2>/dev/null; then
      chmod o+x "$d"
    fi
    d=$(dirname "$d")
  done
}

# init_postgres DATA_DIR: create the private cluster once; a second run reuses it.
init_postgres() {
  local data="$1" bindir
  bindir=$(pg_bindir) || die "PostgreSQL binaries not found under /usr/lib/postgresql/*/bin (apt-get install postgresql)"
  if [ ! -f "$data/PG_VERSION" ]; then
    say "creating a private PostgreSQL cluster in ${data#"$ROOT"/}"
    mkdir -p "$data"
    [ "$(id -u)" = 0 ] && chown "$PG_OS_USER:" "$data"
    chmod 700 "$data"
    open_path_for_pg_user "$(dirname "$data")"
    as_pg_user "$bindir/initdb" -D "$data" -U marketplace --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null \
      || die "initdb failed"
  fi
  open_path_for_pg_user "$(dirname "$data")"
}

# postgres_args PORT: a loopback-only server with settings that suit a developer machine.
postgres_args() {
  echo -p "$1" -c listen_addresses=127.0.0.1 -c unix_socket_directories= \
    -c max_connections=200 -c fsync=on -c shared_buffers=128MB
}

# ensure_database URL: create the database named in URL when it does not exist yet.
ensure_database() {
  "$VENV/bin/python" - "$1" <<'PY'
import sys, time
from urllib.parse import urlsplit
import psycopg
url = urlsplit(sys.argv[1])
name = url.path.lstrip("/")
admin = sys.argv[1].rsplit("/", 1)[0] + "/postgres"
deadline = time.monotonic() + 60
while True:
    try:
        # A managed server may not let us into its maintenance database: only go there when
        # ours is missing.
        psycopg.connect(sys.argv[1], connect_timeout=2).close()
        break
    except psycopg.OperationalError as exc:
        if "does not exist" in str(exc):
            with psycopg.connect(admin, autocommit=True, connect_timeout=2) as conn:
                conn.execute(f'create database "{name}"')
            break
        if time.monotonic() > deadline:
            sys.exit(f"PostgreSQL at {url.hostname}:{url.port} did not answer: {exc}")
        time.sleep(0.2)
PY
}

wait_for_redis() {
  "$VENV/bin/python" - "$1" <<'PY'
import sys, time
import redis
deadline = time.monotonic() + 60
while True:
    try:
        redis.Redis.from_url(sys.argv[1], socket_connect_timeout=1).ping()
        break
    except redis.RedisError as exc:
        if time.monotonic() > deadline:
            sys.exit(f"Redis at {sys.argv[1]} did not answer: {exc}")
        time.sleep(0.2)
PY
}

# gunicorn workers for the web process: pages and the JSON API are I/O-bound (4 threads each),
# so one worker per core, at least 2, at most 8 (each holds its own database connections).
web_workers() {
  local n
  n=$(nproc 2>/dev/null || echo 2)
  [ "$n" -lt 2 ] && n=2
  [ "$n" -gt 8 ] && n=8
  echo "$n"
}
