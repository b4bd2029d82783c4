"""Directory entrypoints: the REST API and the outbox relay."""
