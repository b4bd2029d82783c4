"""Warrants domain: the warrant request, its events and the referral facts that make one wrongful.
Imports no adapters."""
