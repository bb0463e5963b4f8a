#!/bin/sh
# docker-compose.yml's temporal-schema step (temporalio/admin-tools): creates Temporal's two
# databases when missing and brings their schemas to this server version. Safe to run on every
# `docker compose up`: an existing database is kept, and update-schema applies only what is new.
set -eu
sql() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" --pw "$POSTGRES_PWD" "$@"; }

for db in temporal temporal_visibility; do
  schema=temporal
  [ "$db" = temporal_visibility ] && schema=visibility
  sql --db "$db" create || echo "database $db: kept"
  sql --db "$db" setup-schema -v 0.0
  sql --db "$db" update-schema -d "/etc/temporal/schema/postgresql/v12/$schema/versioned"
done
echo "Temporal schema is current"
