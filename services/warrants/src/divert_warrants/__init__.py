"""Divert warrants: warrant requests raised when an arrest diversion's assessment window lapses.

A request is `requested`, then `rescinded` (the referral was assessed on time or withdrawn, facts
that may arrive before or after the lapse) or `acknowledged` by the prosecutor or court, who act
outside Divert; an acknowledged request later found wrongful is flagged for review, never changed.
Processes: `api`, `relay` (outbox → divert.warrants), `consumer` (divert.cases, divert.referrals).
"""
