#!/bin/sh
# Create Divert's Temporal namespace once (intake's DIVERT_TEMPORAL_NAMESPACE), with its retention.
# The frontend requires mutual TLS: every call presents the admin's client certificate and checks
# the server's against the CA and TEMPORAL_TLS_SERVER_NAME. The variables are the temporal CLI's
# own names (it reads them too); passing them as flags as well works with every 1.x CLI.
set -eu

: "${TEMPORAL_ADDRESS:?set TEMPORAL_ADDRESS}"
: "${NAMESPACE:?set NAMESPACE}"
: "${TEMPORAL_TLS_CA:?set TEMPORAL_TLS_CA (the CA of the server's certificate)}"
: "${TEMPORAL_TLS_CERT:?set TEMPORAL_TLS_CERT (the admin's client certificate)}"
: "${TEMPORAL_TLS_KEY:?set TEMPORAL_TLS_KEY (its private key)}"
: "${TEMPORAL_TLS_SERVER_NAME:?set TEMPORAL_TLS_SERVER_NAME (the name on the server's certificate)}"
RETENTION="${RETENTION:-30d}"

temporal_tls() {
  temporal "$@" --address "$TEMPORAL_ADDRESS" --tls-ca-path "$TEMPORAL_TLS_CA" \
    --tls-cert-path "$TEMPORAL_TLS_CERT" --tls-key-path "$TEMPORAL_TLS_KEY" \
    --tls-server-name "$TEMPORAL_TLS_SERVER_NAME"
}

attempt=0
until temporal_tls operator cluster health; do
  attempt=$((attempt + 1))
  if [ "$attempt" -ge 30 ]; then
    echo "temporal at $TEMPORAL_ADDRESS is not healthy" >&2
    exit 1
  fi
  sleep 2
done

if temporal_tls operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
  echo "namespace $NAMESPACE exists"
else
  temporal_tls operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION"
  echo "namespace $NAMESPACE created (retention $RETENTION)"
fi
