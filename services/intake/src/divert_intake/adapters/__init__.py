"""Intake adapters: the referral repository and its read models, metrics, the Temporal deadline clock."""
