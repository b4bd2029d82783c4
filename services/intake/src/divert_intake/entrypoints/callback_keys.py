"""`divert-intake callbacks`: the keys the callback endpoints' signing secrets are sealed with.

`new-key` prints a fresh key for `DIVERT_CALLBACK_ENCRYPTION_KEYS`. To retire a key, put the new
one first (keeping the old one after it), restart the api and relay, run `reencrypt`, then drop
the old key and restart again.
"""

import asyncio

import typer
from cryptography.fernet import Fernet

from divert_intake.bootstrap import MIGRATIONS
from divert_intake.config import IntakeSettings
from divert_platform.callbacks import registry
from divert_platform.db import create_engine, create_session_factory
from divert_platform.migrations import SchemaBehind, require_head

app = typer.Typer(help="Keys of the callback endpoints' signing secrets.", no_args_is_help=True)


@app.command("new-key")
def new_key() -> None:
    """Print a new key for DIVERT_CALLBACK_ENCRYPTION_KEYS (keep it in the secret store only)."""
    typer.echo(Fernet.generate_key().decode())


@app.command()
def reencrypt() -> None:
    """Re-encrypt every endpoint's signing secrets under the first key of DIVERT_CALLBACK_ENCRYPTION_KEYS."""
    settings = IntakeSettings()
    try:
        require_head(settings.database_url, MIGRATIONS, migrate_command="divert-intake migrate")
    except SchemaBehind as error:
        typer.echo(f"divert-intake callbacks reencrypt: refusing to start: {error}", err=True)
        raise typer.Exit(1) from error
    count = asyncio.run(_reencrypt(settings))
    typer.echo(f"re-encrypted the secrets of {count} endpoint(s) under the first key")


async def _reencrypt(settings: IntakeSettings) -> int:
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            return await registry.reseal_all(session, settings.callback_box)
    finally:
        await engine.dispose()
