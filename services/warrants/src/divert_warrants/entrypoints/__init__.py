"""Warrants entrypoints: the REST API, the outbox relay and the consumer of case and referral events."""
