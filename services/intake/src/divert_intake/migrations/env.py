"""Alembic environment of intake's database."""

from divert_platform.migrations import run_migrations_in_env

run_migrations_in_env()
