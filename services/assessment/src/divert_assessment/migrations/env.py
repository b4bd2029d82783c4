"""Alembic environment of assessment's database."""

from divert_platform.migrations import run_migrations_in_env

run_migrations_in_env()
