#!/bin/sh
# Create Divert's topics and their dead-letter topics (idempotent: existing topics are left alone).
#
# Partition counts are those of contracts/src/divert_contracts/topics.py; tests/deploy fails when
# they disagree, and checks that deploy/k8s/base/kafka-topics/create-topics.sh is this same file.
# Partitions can only be added later (kafka-topics.sh --alter), never removed, and adding them moves
# keys to other partitions: a referral's events keep their order only within one partition.
#
# Dead-letter topics (.dlq) keep their records DEAD_LETTER_RETENTION_MS (30 days, the services'
# DIVERT_RETENTION_DEAD_LETTER_DAYS; docs/operations.md, "Retention"): they are whole copies of
# events, personal data included. Existing ones are given it too. Event topics keep the brokers'
# default retention (DIVERT_RETENTION_TOPIC_DAYS must not be shorter than it).
#
# Environment: KAFKA_BOOTSTRAP (required), REPLICATION_FACTOR (3), MIN_INSYNC_REPLICAS (2),
# DEAD_LETTER_RETENTION_MS (2592000000), KAFKA_COMMAND_CONFIG (a client properties file for
# SASL/TLS, used when the file exists).
set -eu

: "${KAFKA_BOOTSTRAP:?set KAFKA_BOOTSTRAP}"
REPLICATION_FACTOR="${REPLICATION_FACTOR:-3}"
MIN_INSYNC_REPLICAS="${MIN_INSYNC_REPLICAS:-2}"
DEAD_LETTER_RETENTION_MS="${DEAD_LETTER_RETENTION_MS:-2592000000}"
KAFKA_TOPICS="${KAFKA_TOPICS_SH:-/opt/kafka/bin/kafka-topics.sh}"
KAFKA_CONFIGS="${KAFKA_CONFIGS_SH:-/opt/kafka/bin/kafka-configs.sh}"

create() {
  # $1 topic, $2 partitions
  topic="$1"
  partitions="$2"
  set -- --bootstrap-server "$KAFKA_BOOTSTRAP"
  if [ -n "${KAFKA_COMMAND_CONFIG:-}" ] && [ -f "$KAFKA_COMMAND_CONFIG" ]; then
    set -- "$@" --command-config "$KAFKA_COMMAND_CONFIG"
  fi
  case "$topic" in
    *.dlq) retention="--config retention.ms=$DEAD_LETTER_RETENTION_MS" ;;
    *) retention="" ;;
  esac
  # shellcheck disable=SC2086  # $retention is empty or one option and its value
  "$KAFKA_TOPICS" "$@" --create --if-not-exists \
    --topic "$topic" --partitions "$partitions" --replication-factor "$REPLICATION_FACTOR" \
    --config min.insync.replicas="$MIN_INSYNC_REPLICAS" $retention
  if [ -n "$retention" ]; then
    # a topic that existed already (--if-not-exists left it alone) gets the retention too
    "$KAFKA_CONFIGS" "$@" --alter --entity-type topics --entity-name "$topic" \
      --add-config retention.ms="$DEAD_LETTER_RETENTION_MS"
  fi
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
