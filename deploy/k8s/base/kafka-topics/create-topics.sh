#!/bin/sh
# Create Divert's topics and their dead-letter topics (idempotent: existing topics are left alone).
#
# Partition counts are those of contracts/src/divert_contracts/topics.py; tests/deploy fails when
# they disagree, and checks that deploy/k8s/base/kafka-topics/create-topics.sh is this same file.
# Partitions can only be added later (kafka-topics.sh --alter), never removed, and adding them moves
# keys to other partitions: a referral's events keep their order only within one partition.
#
# Environment: KAFKA_BOOTSTRAP (required), REPLICATION_FACTOR (3), MIN_INSYNC_REPLICAS (2),
# KAFKA_COMMAND_CONFIG (a client properties file for SASL/TLS, used when the file exists).
set -eu

: "${KAFKA_BOOTSTRAP:?set KAFKA_BOOTSTRAP}"
REPLICATION_FACTOR="${REPLICATION_FACTOR:-3}"
MIN_INSYNC_REPLICAS="${MIN_INSYNC_REPLICAS:-2}"
KAFKA_TOPICS="${KAFKA_TOPICS_SH:-/opt/kafka/bin/kafka-topics.sh}"

create() {
  # $1 topic, $2 partitions
  topic="$1"
  partitions="$2"
  set -- --bootstrap-server "$KAFKA_BOOTSTRAP"
  if [ -n "${KAFKA_COMMAND_CONFIG:-}" ] && [ -f "$KAFKA_COMMAND_CONFIG" ]; then
    set -- "$@" --command-config "$KAFKA_COMMAND_CONFIG"
  fi
  "$KAFKA_TOPICS" "$@" --create --if-not-exists \
    --topic "$topic" --partitions "$partitions" --replication-factor "$REPLICATION_FACTOR" \
    --config min.insync.replicas="$MIN_INSYNC_REPLICAS"
  echo "topic $topic: $partitions partitions, replication factor $REPLICATION_FACTOR"
}

create divert.referrals 6
create divert.referrals.dlq 1
create divert.cases 6
create divert.cases.dlq 1
create divert.case-milestones 6
create divert.case-milestones.dlq 1
create divert.warrants 3
create divert.warrants.dlq 1
create divert.directory 3
create divert.directory.dlq 1
