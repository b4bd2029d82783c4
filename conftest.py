"""Fixtures shared by every test tier (real broker, real Temporal, SQLite and PostgreSQL)."""

pytest_plugins = ["divert_platform.testing"]
