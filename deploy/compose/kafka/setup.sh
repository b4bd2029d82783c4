#!/bin/sh
# The compose kafka-topics job, as the cluster's admin (principal divert-admin, signed in by its
# client certificate on the brokers' INTERNAL listener):
#   1. sets the SCRAM-SHA-512 credential of the admin and of each service's principal,
#   2. creates every topic (create-topics.sh),
#   3. gives each service's principal exactly the ACLs its code uses (create-acls.sh, generated).
# Idempotent: a re-run sets the same passwords, or new ones after a rotation, and adds nothing twice.
#
# Environment: KAFKA_BOOTSTRAP (the INTERNAL listeners), KAFKA_ADMIN_KEY_PASSWORD, and one password
# per principal: KAFKA_ADMIN_PASSWORD, INTAKE_KAFKA_PASSWORD, ASSESSMENT_KAFKA_PASSWORD,
# DIRECTORY_KAFKA_PASSWORD, WARRANTS_KAFKA_PASSWORD. SCRIPTS_DIR, CERTS_DIR, KAFKA_CONFIGS_SH and
# KAFKA_COMMAND_CONFIG default to the container's paths (tests/deploy runs this script with fakes).
set -eu

: "${KAFKA_BOOTSTRAP:?set KAFKA_BOOTSTRAP}"
: "${KAFKA_ADMIN_KEY_PASSWORD:?set KAFKA_ADMIN_KEY_PASSWORD}"
SCRIPTS="${SCRIPTS_DIR:-/scripts}"
CERTS="${CERTS_DIR:-/etc/kafka/certs}"
KAFKA_CONFIGS="${KAFKA_CONFIGS_SH:-/opt/kafka/bin/kafka-configs.sh}"
KAFKA_COMMAND_CONFIG="${KAFKA_COMMAND_CONFIG:-/tmp/admin.properties}"
export KAFKA_COMMAND_CONFIG

umask 077
cat > "$KAFKA_COMMAND_CONFIG" <<PROPERTIES
security.protocol=SSL
ssl.keystore.type=PEM
ssl.keystore.location=$CERTS/admin.pem
ssl.key.password=$KAFKA_ADMIN_KEY_PASSWORD
ssl.truststore.type=PEM
ssl.truststore.location=$CERTS/ca.crt
PROPERTIES

scram_user() {
  # $1 principal, $2 its password
  case "$2" in
    *[!A-Za-z0-9._~-]*)
      # the SCRAM configuration syntax reserves , = [ ] (and a shell would mangle more)
      echo "the password of $1 has characters other than A-Z a-z 0-9 . _ ~ -: choose a URL-safe one" >&2
      exit 1
      ;;
  esac
  "$KAFKA_CONFIGS" --bootstrap-server "$KAFKA_BOOTSTRAP" --command-config "$KAFKA_COMMAND_CONFIG" \
    --alter --entity-type users --entity-name "$1" --add-config "SCRAM-SHA-512=[password=$2]"
  echo "SCRAM-SHA-512 credential of $1 set"
}

scram_user divert-admin "${KAFKA_ADMIN_PASSWORD:?set KAFKA_ADMIN_PASSWORD}"
scram_user divert-intake "${INTAKE_KAFKA_PASSWORD:?set INTAKE_KAFKA_PASSWORD}"
scram_user divert-assessment "${ASSESSMENT_KAFKA_PASSWORD:?set ASSESSMENT_KAFKA_PASSWORD}"
scram_user divert-directory "${DIRECTORY_KAFKA_PASSWORD:?set DIRECTORY_KAFKA_PASSWORD}"
scram_user divert-warrants "${WARRANTS_KAFKA_PASSWORD:?set WARRANTS_KAFKA_PASSWORD}"

sh "$SCRIPTS/create-topics.sh"
sh "$SCRIPTS/create-acls.sh"
