"""Divert assessment: cases for accepted referrals, assessed by case-agency staff."""
