#!/bin/bash
# One database per Divert service, with two roles, plus Temporal's two databases (run by the
# postgres image once, on an empty data directory):
#   <service>      owns the database and its schema; only the service's migrations sign in as it
#   <service>_app  every other process of the service: reads and writes rows, never the schema
# PUBLIC may not connect to any of these databases: a service cannot read another service's data.
# docs/deployment.md ("Database migrations and roles") has the same grants for a database the
# platform provides, and for one created before the application roles existed.
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

create_app_role() {
  # $1 role, $2 password, $3 database, $4 the database's owner (who runs the migrations).
  # Rows only: SELECT, INSERT, UPDATE, DELETE on every table and USAGE, SELECT on every sequence
  # the owner has created or will create in schema public; no CREATE anywhere, and only the owner
  # may ALTER or DROP what it made.
  local role="$1" password="$2" database="$3" owner="$4"
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v role="$role" -v password="$password" -v database="$database" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'role', :'password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', :'database', :'role') \gexec
SQL
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$database" \
    -v role="$role" -v owner="$owner" <<'SQL'
-- PostgreSQL before 15 let everyone create tables in schema public: only the owner may.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SELECT format('GRANT USAGE, CREATE ON SCHEMA public TO %I', :'owner') \gexec
SELECT format('GRANT USAGE ON SCHEMA public TO %I', :'role') \gexec
SELECT format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %I', :'role') \gexec
SELECT format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %I', :'role') \gexec
SELECT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public '
              'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', :'owner', :'role') \gexec
SELECT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public '
              'GRANT USAGE, SELECT ON SEQUENCES TO %I', :'owner', :'role') \gexec
SQL
}

# Tests source this file with DIVERT_INIT_FUNCTIONS_ONLY=1 to run the functions on names of their own.
[ -z "${DIVERT_INIT_FUNCTIONS_ONLY:-}" ] || return 0

create_database intake "$INTAKE_DB_PASSWORD" intake
create_database assessment "$ASSESSMENT_DB_PASSWORD" assessment
create_database directory "$DIRECTORY_DB_PASSWORD" directory
create_database warrants "$WARRANTS_DB_PASSWORD" warrants
create_database temporal "$TEMPORAL_DB_PASSWORD" temporal temporal_visibility
create_app_role intake_app "$INTAKE_APP_DB_PASSWORD" intake intake
create_app_role assessment_app "$ASSESSMENT_APP_DB_PASSWORD" assessment assessment
create_app_role directory_app "$DIRECTORY_APP_DB_PASSWORD" directory directory
create_app_role warrants_app "$WARRANTS_APP_DB_PASSWORD" warrants warrants
