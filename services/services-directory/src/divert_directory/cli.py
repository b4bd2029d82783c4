"""`divert-directory`: run one of the services directory's processes, or load HSDS data."""

from pathlib import Path
from typing import Annotated

import typer

from divert_directory.adapters.hsds_files import SourceError
from divert_directory.bootstrap import MIGRATIONS
from divert_directory.config import DirectorySettings
from divert_directory.entrypoints.catalogue_import import SEED, run_import, summary
from divert_platform.cli import build_cli
from divert_platform.migrations import SchemaBehind, upgrade_to_head

app = build_cli(
    help="Divert services directory: providers, services and locations (Open Referral HSDS 3.0).",
    settings_type=DirectorySettings,
    migrations=MIGRATIONS,
    api_factory="divert_directory.entrypoints.api:create_api",
    roles={
        "relay": ("divert_directory.entrypoints.relay", "Publish the outbox to Kafka (divert.directory)."),
        "consumer": ("divert_directory.entrypoints.consumer", "Keep what matching needs of divert.cases."),
    },
)


def _load(path: Path, *, dry_run: bool = False, json_type: str | None = None) -> None:
    try:
        report = run_import(path, dry_run=dry_run, json_type=json_type)
    except SourceError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    except SchemaBehind as error:
        typer.echo(f"divert-directory: refusing to import: {error}", err=True)
        raise typer.Exit(1) from error
    for line in summary(report):
        typer.echo(line)
    raise typer.Exit(0 if report.ok else 1)


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="A datapackage folder of HSDS CSV files, or an HSDS JSON file.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and count everything, write nothing.")] = False,
    json_type: Annotated[
        str | None, typer.Option("--type", help="HSDS type of a JSON file's objects (default: from its name).")
    ] = None,
) -> None:
    """Import HSDS 3.0 data into the catalogue (upsert by id; re-importing changes nothing).

    Every invalid row is reported with its file, row and reason and left out; the rest is imported.
    Exits 1 when any row was invalid, 2 when PATH is not HSDS data."""
    _load(path, dry_run=dry_run, json_type=json_type)


@app.command()
def seed(
    migrate: Annotated[
        bool, typer.Option("--migrate", help="Apply the migrations first, as `migrate` does (the embedded stack).")
    ] = False,
) -> None:
    """Import the bundled fictional directory (every need, for king-county, santa-fe, albany, demo)."""
    if migrate:
        settings = DirectorySettings()
        upgrade_to_head(settings.migration_database_url or settings.database_url, MIGRATIONS)
    _load(SEED)
