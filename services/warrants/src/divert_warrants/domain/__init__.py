"""Warrants domain: the warrant request and its events. Imports no adapters."""
