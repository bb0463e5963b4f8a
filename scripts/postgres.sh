#!/usr/bin/env bash
# A project-local PostgreSQL cluster under .stack/postgres, for machines without Docker.
#   postgres.sh start   initialise (first time), start, create roles and databases
#   postgres.sh stop    stop the cluster
#   postgres.sh reset   drop and recreate the holvi and expenzy databases
#   postgres.sh status  exit 0 when the cluster accepts connections
#   postgres.sh bin     print the server binaries' directory (installing PostgreSQL when missing)
# PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
read_default_ports

PGPORT="${PGPORT:-$DEFAULT_POSTGRES_PORT}"
PG_HOME="$STACK_DIR/postgres"
PGDATA="$PG_HOME/data"
PGSOCK="$PG_HOME/run"

find_pg_bin() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
  if [[ -z "$dir" ]] && command -v pg_ctl >/dev/null 2>&1; then dir="$(dirname "$(command -v pg_ctl)")"; fi
  if [[ -z "$dir" && "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    say "PostgreSQL not found; installing Debian's postgresql package" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
  fi
  [[ -n "$dir" ]] || die "PostgreSQL server binaries not found (install postgresql, or set HOLVI_DATABASE_URL)"
  echo "$dir"
}
PG_BIN="$(find_pg_bin)"

# as_pg CMD...: runs CMD as the cluster's owner.
as_pg() {
  if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

psql_admin() { as_pg "$PG_BIN/psql" -h "$PGSOCK" -p "$PGPORT" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }

init_cluster() {
  [[ -f "$PGDATA/PG_VERSION" ]] && return 0
  say "initialising PostgreSQL cluster in $PGDATA"
  mkdir -p "$PGDATA" "$PGSOCK"
  if [[ "$(id -u)" == 0 ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir "$PG_HOME" postgres
    chown -R postgres: "$PG_HOME"
    chmod 755 "$STACK_DIR"
  fi
  as_pg "$PG_BIN/initdb" -D "$PGDATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  cat >>"$PGDATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$PGSOCK'
max_connections = 300
shared_buffers = 256MB
CONF
}

ensure_role() { # name password attributes
  psql_admin -c "DO \$\$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$1') THEN CREATE ROLE $1 LOGIN PASSWORD '$2' $3; END IF;
  END \$\$;"
}

ensure_db() { # name owner
  if [[ -z "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$1'")" ]]; then
    as_pg "$PG_BIN/createdb" -h "$PGSOCK" -p "$PGPORT" -U postgres -O "$2" "$1"
  fi
}

# holvi_owner runs migrations and owns Holvi's tables; holvi_app is what the services
# connect as (granted only what they need by the migrations); expenzy is the partner's.
bootstrap() {
  ensure_role holvi_owner holvi_owner "CREATEDB"
  ensure_role holvi_app holvi_app ""
  ensure_role expenzy expenzy "CREATEDB"
  ensure_db holvi holvi_owner
  ensure_db expenzy expenzy
  # Lets the owner end the service's sessions (DROP DATABASE ... WITH (FORCE) in tests and resets).
  psql_admin -c "SET client_min_messages = warning; GRANT holvi_app TO holvi_owner" >/dev/null
}

start() {
  init_cluster
  if as_pg "$PG_BIN/pg_isready" -q -h "$PGSOCK" -p "$PGPORT"; then bootstrap; return 0; fi
  say "starting PostgreSQL on 127.0.0.1:$PGPORT"
  mkdir -p "$PGSOCK"; [[ "$(id -u)" == 0 ]] && chown postgres: "$PGSOCK"
  touch "$LOG_DIR/postgres.log"; [[ "$(id -u)" == 0 ]] && chown postgres: "$LOG_DIR/postgres.log"
  if ! as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$LOG_DIR/postgres.log" -w -t 60 start >/dev/null; then
    show_log_tail postgres; die "PostgreSQL failed to start"
  fi
  as_pg cat "$PGDATA/postmaster.pid" | head -n1 >"$PID_DIR/postgres.pid"
  bootstrap
}

stop() {
  [[ -f "$PGDATA/postmaster.pid" ]] || return 0
  say "stopping PostgreSQL"
  as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m "${PG_STOP_MODE:-fast}" -w stop >/dev/null || true
  rm -f "$PID_DIR/postgres.pid"
}

reset() {
  for db in holvi expenzy; do
    psql_admin -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$db' AND pid <> pg_backend_pid()" >/dev/null
    psql_admin -c "DROP DATABASE IF EXISTS $db"
  done
  bootstrap
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  reset) reset ;;
  status) as_pg "$PG_BIN/pg_isready" -h "$PGSOCK" -p "$PGPORT" ;;
  bin) echo "$PG_BIN" ;;
  *) die "usage: postgres.sh start|stop|restart|reset|status|bin" ;;
esac
