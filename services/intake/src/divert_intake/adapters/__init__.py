"""Intake adapters: read models, Temporal and the warrants HTTP client."""
