"""Divert's runtime kit, shared by every service: never run on its own, never importing a service."""
