"""Alembic environment of the warrants database."""

from divert_platform.migrations import run_migrations_in_env

run_migrations_in_env()
