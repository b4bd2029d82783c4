#!/bin/sh
# Bring Temporal's two databases (created by postgres/init-databases.sh) to the schema of this
# admin-tools version. Safe to re-run: setup-schema only adds the version tables when missing and
# update-schema applies only the versions not yet applied. Upgrade Temporal by running this job
# with the new admin-tools version before the new server (docs/deployment.md).
set -eu

: "${SQL_PASSWORD:?set SQL_PASSWORD}"
SQL="temporal-sql-tool --plugin postgres12 --ep postgres -p 5432 -u temporal"
SCHEMA=/etc/temporal/schema/postgresql/v12

for db in temporal temporal_visibility; do
  case "$db" in
    temporal) dir="$SCHEMA/temporal/versioned" ;;
    *) dir="$SCHEMA/visibility/versioned" ;;
  esac
  $SQL --db "$db" setup-schema -v 0.0
  $SQL --db "$db" update-schema -d "$dir"
done
echo "temporal schema up to date"
