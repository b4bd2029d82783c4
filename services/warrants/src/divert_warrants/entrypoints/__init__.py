"""Warrants entrypoints: the REST API and the outbox relay."""
