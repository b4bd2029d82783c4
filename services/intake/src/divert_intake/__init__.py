"""Divert intake: referrals from police RMS, eligibility per jurisdiction, the deadline workflow."""
