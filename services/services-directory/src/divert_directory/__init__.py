"""Divert services directory: the Open Referral HSDS 3.0 catalogue case managers refer people to."""
