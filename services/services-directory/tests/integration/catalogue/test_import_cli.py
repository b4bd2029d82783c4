"""`divert-directory import` and `seed` as an operator runs them (SQLite, settings from the environment)."""

import shutil
from pathlib import Path

from typer.testing import CliRunner

from divert_directory.cli import app


def run(tmp_path: Path, *args: str, migrated: bool = True) -> tuple[int, str]:
    env = {"DIVERT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'directory.db'}"}
    if migrated:  # as a deploy does: `migrate` first, then the data-only commands
        assert CliRunner().invoke(app, ["migrate"], env=env).exit_code == 0
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_import_refuses_a_database_that_was_never_migrated(hsds: Path, tmp_path: Path) -> None:
    code, output = run(tmp_path, "import", str(hsds / "examples" / "csv"), migrated=False)

    assert code == 1
    assert "refusing to import" in output and "divert-directory migrate" in output


def test_import_prints_a_count_per_table_and_reimport_changes_nothing(hsds: Path, tmp_path: Path) -> None:
    code, first = run(tmp_path, "import", str(hsds / "examples" / "csv"))
    again_code, again = run(tmp_path, "import", str(hsds / "examples" / "csv"))

    assert code == 0 and again_code == 0, first
    assert _counts(first, "service_at_location") == ["1", "0", "1", "0", "0"]
    assert _counts(again, "service_at_location") == ["1", "0", "0", "0", "1"]
    assert again.splitlines()[-1] == "imported; 0 invalid row(s)"


def test_invalid_rows_are_listed_and_the_exit_status_says_so(hsds: Path, tmp_path: Path) -> None:
    package = tmp_path / "package"
    shutil.copytree(hsds / "examples" / "csv", package)
    services = package / "services.csv"
    services.chmod(0o644)
    services.write_text(services.read_text() + "6a3c2f0e-0000-4000-8000-000000000001,,,Nameless org,,,,,active\n")

    code, output = run(tmp_path, "import", "--dry-run", str(package))

    assert code == 1
    assert "invalid: services.csv row 3: service is missing required field(s): organization_id" in output
    assert output.splitlines()[-1] == "dry run: nothing was written; 1 invalid row(s)"


def test_a_path_that_is_not_hsds_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")

    code, output = run(tmp_path, "import", str(tmp_path / "notes.txt"))

    assert code == 2 and "neither a datapackage folder nor a .json file" in output


def test_seed_is_idempotent(tmp_path: Path) -> None:
    code, first = run(tmp_path, "seed")
    again_code, again = run(tmp_path, "seed")

    assert code == 0 and again_code == 0, first
    assert " 0 invalid row(s)" in first and "inserted" in first
    service_line = next(line for line in again.splitlines() if line.startswith("service "))
    assert service_line.split()[-1] == service_line.split()[1], "every service unchanged"


def _counts(output: str, table: str) -> list[str]:
    """read, invalid, inserted, updated, unchanged of `table` in the summary."""
    return next(line.split()[1:] for line in output.splitlines() if line.split()[:1] == [table])
