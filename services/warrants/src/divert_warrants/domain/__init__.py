"""Warrants domain: the warrant request, its events, and warrants' own record of each referral
(`ReferralFacts`), which decides whether a request may be made and whether it is wrongful.
Imports no adapters."""
