#!/bin/bash
# One role and one database per Divert service, plus Temporal's two databases (run by the
# postgres image once, on an empty data directory). A service's role owns only its own database
# and PUBLIC may not connect to any of them: a service cannot read another service's data.
set -euo pipefail

create_database() {
  # $1 role, $2 password, $3... databases owned by the role
  local role="$1" password="$2"
  shift 2
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v role="$role" -v password="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'role', :'password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
SQL
  local database
  for database in "$@"; do
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
      -v role="$role" -v database="$database" <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I', :'database', :'role')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'database') \gexec
SQL
  done
}

create_database intake "$INTAKE_DB_PASSWORD" intake
create_database assessment "$ASSESSMENT_DB_PASSWORD" assessment
create_database directory "$DIRECTORY_DB_PASSWORD" directory
create_database warrants "$WARRANTS_DB_PASSWORD" warrants
create_database temporal "$TEMPORAL_DB_PASSWORD" temporal temporal_visibility
