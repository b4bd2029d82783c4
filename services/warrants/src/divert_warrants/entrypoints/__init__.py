"""Warrants entrypoints: the REST API, the outbox relay and the consumer of referral events and case
milestones."""
