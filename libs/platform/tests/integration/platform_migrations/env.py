"""Alembic environment for the platform's own tests: just the platform tables."""

from divert_platform.migrations import run_migrations_in_env

run_migrations_in_env()
