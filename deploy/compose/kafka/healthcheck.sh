#!/bin/sh
# Healthcheck of a compose broker: it answers ApiVersions on its INTERNAL listener (9094), asked
# over TLS with the broker's own certificate (its CLIENT listener would need a SCRAM user, which
# the kafka-topics job creates only once the brokers are healthy).
#
# Environment (the broker's own): KAFKA_SSL_KEYSTORE_LOCATION, KAFKA_SSL_KEY_PASSWORD,
# KAFKA_SSL_TRUSTSTORE_LOCATION.
set -eu

config=/tmp/healthcheck.properties
umask 077
cat > "$config" <<PROPERTIES
security.protocol=SSL
ssl.keystore.type=PEM
ssl.keystore.location=$KAFKA_SSL_KEYSTORE_LOCATION
ssl.key.password=$KAFKA_SSL_KEY_PASSWORD
ssl.truststore.type=PEM
ssl.truststore.location=$KAFKA_SSL_TRUSTSTORE_LOCATION
ssl.endpoint.identification.algorithm=
PROPERTIES
# (no hostname check: the broker asks itself on localhost, a name its certificate need not carry)
exec /opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server localhost:9094 \
  --command-config "$config" > /dev/null 2>&1
