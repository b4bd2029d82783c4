"""Directory entrypoints: the REST API, the consumer of divert.cases, the outbox relay and the
catalogue import."""
