"""`divert-directory import PATH` and `divert-directory seed`: load HSDS data into the catalogue."""

import asyncio
from pathlib import Path

from divert_directory.bootstrap import MIGRATIONS, Directory, bootstrap
from divert_directory.config import DirectorySettings
from divert_directory.service_layer.importer import ImportReport, import_catalogue
from divert_platform.cause import Cause
from divert_platform.clock import utcnow
from divert_platform.migrations import require_head

SEED = Path(__file__).resolve().parent.parent / "seed"
"""The bundled, fictional seed directory (an HSDS tabular datapackage)."""
IMPORTER = Cause(actor="divert-directory import", role="ops")
"""Who an import acts for (it records no events, so this is never stored)."""


def run_import(path: Path, *, dry_run: bool = False, json_type: str | None = None) -> ImportReport:
    """Import `path` into the directory's database (settings from the environment).

    Like every process but `migrate`, it runs as the service's data-only role and refuses a
    database that `divert-directory migrate` has not brought to this release's revision
    (`SchemaBehind`).
    """
    settings = DirectorySettings()
    require_head(settings.database_url, MIGRATIONS, migrate_command="divert-directory migrate")
    return asyncio.run(_import(settings, path, dry_run, json_type))


async def _import(settings: DirectorySettings, path: Path, dry_run: bool, json_type: str | None) -> ImportReport:
    directory = bootstrap(settings)
    try:
        return await load_catalogue(directory, path, dry_run=dry_run, json_type=json_type)
    finally:
        await directory.engine.dispose()


async def load_catalogue(
    directory: Directory, path: Path, *, dry_run: bool = False, json_type: str | None = None
) -> ImportReport:
    """Import `path` into the directory's catalogue in one transaction, committed unless `dry_run`."""
    async with directory.unit_of_work() as uow:
        uow.cause = IMPORTER
        report = await import_catalogue(path, uow, now=utcnow(), dry_run=dry_run, json_type=json_type)
        if not dry_run:
            await uow.commit()
    return report


def summary(report: ImportReport) -> list[str]:
    """The report as lines for a terminal: every invalid row, then one count line per table."""
    lines = [f"invalid: {error}" for error in report.errors]
    lines += [f"skipped: {name} is not an HSDS table" for name in report.skipped_files]
    width = max((len(name) for name in report.tables), default=5)
    lines.append(f"{'table':<{width}}  read  invalid  inserted  updated  unchanged")
    for name, count in sorted(report.tables.items()):
        lines.append(
            f"{name:<{width}}  {count.read:>4}  {count.invalid:>7}  {count.inserted:>8}  {count.updated:>7}  "
            f"{count.unchanged:>9}"
        )
    verdict = "dry run: nothing was written" if report.dry_run else "imported"
    lines.append(f"{verdict}; {len(report.errors)} invalid row(s)")
    return lines
