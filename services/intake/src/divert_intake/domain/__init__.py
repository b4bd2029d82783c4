"""Intake domain: referrals, jurisdiction policies, eligibility and deadlines. Imports no adapters."""
