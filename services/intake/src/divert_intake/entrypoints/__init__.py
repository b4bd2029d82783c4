"""Intake processes: api, relay, consumer, worker."""
