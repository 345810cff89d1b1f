#!/bin/sh
# Run once by the postgres image when it creates an empty data directory: the registry's owner
# and app roles and its database (deploy/postgres/roles.sql, docs/deployment.md "Database roles").
set -eu
psql --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
  -v owner="$REGISTRY_DB_OWNER" -v app="$REGISTRY_DB_APP" -v dbname="$REGISTRY_DB_NAME" \
  -v owner_password="$REGISTRY_DB_OWNER_PASSWORD" -v app_password="$REGISTRY_DB_APP_PASSWORD" \
  -f /registry/roles.sql
