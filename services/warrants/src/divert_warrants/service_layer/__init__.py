"""Warrants command handlers and reactions to events."""
