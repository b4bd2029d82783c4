"""Warrants command handlers."""
