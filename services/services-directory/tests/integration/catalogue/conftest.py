"""Fixtures of the HSDS catalogue's tests: the standard's schemas and examples, a migrated
directory, an API client with a token, and the seed or the standard's example imported.

The HSDS 3.0 standard is not part of the repository: it is found through `DIVERT_HSDS_STANDARD_DIR`
or in `../shared/standards/hsds-3.0` beside the repository, and the tests needing it are skipped,
with that reason, when it is absent.
"""

import json
import os
from collections.abc import AsyncIterator, Callable
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
import pytest_asyncio

from divert_directory.bootstrap import MIGRATIONS, Directory, bootstrap
from divert_directory.config import DirectorySettings
from divert_directory.entrypoints.api import build_api
from divert_directory.entrypoints.catalogue_import import SEED, load_catalogue
from divert_directory.service_layer.importer import ImportReport
from divert_platform.auth import Role, mint_token
from divert_platform.testing import migrate

# <repo>/services/services-directory/tests/integration/catalogue/<this file> → <repo>/..
_BESIDE_REPO = Path(__file__).resolve().parents[6] / "shared" / "standards" / "hsds-3.0"
_SCHEMA_BASE = "https://hsds.invalid/schema/"


def standard_dir() -> Path:
    """Where the HSDS 3.0 standard (schemas and examples) is; skips the test when it is absent."""
    path = Path(os.environ.get("DIVERT_HSDS_STANDARD_DIR") or _BESIDE_REPO)
    if not (path / "schema" / "compiled").is_dir():
        pytest.skip(
            f"the HSDS 3.0 standard is not at {path}: set DIVERT_HSDS_STANDARD_DIR or put it in "
            "../shared/standards/hsds-3.0 beside the repository (CI has it)"
        )
    return path


@cache
def _validator(schema_dir: Path, name: str) -> Any:
    registry = jsonschema_rs.Registry(
        [(_SCHEMA_BASE + file.name, json.loads(file.read_text())) for file in schema_dir.glob("*.json")]
    )
    schema = json.loads((schema_dir / name).read_text())
    return jsonschema_rs.validator_for(schema, registry=registry, validate_formats=True, base_uri=_SCHEMA_BASE + name)


Check = Callable[[str, Any], None]

# which schema each response is checked against (compiled ones are self-contained; taxonomy ones
# refer to their neighbours, hence the registry)
SCHEMAS = {
    "service": "compiled/service.json",
    "service_list": "compiled/service_list.json",
    "organization": "compiled/organization.json",
    "organization_list": "compiled/organization_list.json",
    "service_at_location": "compiled/service_at_location.json",
    "service_at_location_list": "compiled/service_at_location_list.json",
    "taxonomy": "taxonomy.json",
    "taxonomy_term": "taxonomy_term.json",
}


@pytest.fixture
def conforms() -> Check:
    """`conforms("service", body)`: the body validates against the standard's schema (formats too)."""
    root = standard_dir() / "schema"

    def check(name: str, document: Any) -> None:
        found = _validator(root, SCHEMAS[name]).iter_errors(document)
        errors = [f"{error.instance_path}: {error.message}" for error in found]
        assert not errors, f"not a valid HSDS {name}: {errors[:5]}"

    return check


PAGE_FIELDS = {
    "total_items": int,
    "total_pages": int,
    "page_number": int,
    "size": int,
    "first_page": bool,
    "last_page": bool,
    "empty": bool,
    "contents": list,
}


@pytest.fixture
def conforms_page(conforms: Check) -> Check:
    """`conforms_page("service_list", body)`: an HSDS `Page` whose every item is valid."""

    def check(item_schema: str, page: Any) -> None:
        for field, kind in PAGE_FIELDS.items():
            assert isinstance(page[field], kind), field
        for item in page["contents"]:
            conforms(item_schema, item)

    return check


@pytest_asyncio.fixture
async def directory(database_url: str) -> AsyncIterator[Directory]:
    """The directory's parts over a freshly migrated, empty database."""
    await migrate(database_url, MIGRATIONS)
    parts = bootstrap(DirectorySettings(database_url=database_url, kafka_bootstrap="127.0.0.1:1"))
    try:
        yield parts
    finally:
        await parts.engine.dispose()


Import = Callable[..., Any]


@pytest.fixture
def load(directory: Directory) -> Import:
    """`await load(path, dry_run=False)`: import a datapackage or JSON file into `directory`."""

    async def run(path: Path, **options: Any) -> ImportReport:
        return await load_catalogue(directory, path, **options)

    return run


@pytest_asyncio.fixture
async def seeded(directory: Directory, load: Import) -> Directory:
    """The directory with the bundled seed imported."""
    report = await load(SEED)
    assert report.ok, report.errors
    return directory


@pytest.fixture
def hsds() -> Path:
    """The HSDS 3.0 standard's folder (`schema/`, `examples/`)."""
    return standard_dir()


def bearer_headers(directory: Directory, role: Role = "case_manager") -> dict[str, str]:
    """Headers of a caller in `role` (with the scope claims every scoped role's token carries)."""
    token = mint_token(
        directory.settings, subject=f"{role}-1", role=role, agency="reach-king-county", jurisdiction="king-county"
    )
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def bearer(directory: Directory) -> Callable[..., dict[str, str]]:
    """`bearer("officer")`: headers of a caller in that role."""
    return lambda role="case_manager": bearer_headers(directory, role)


@pytest_asyncio.fixture
async def client(directory: Directory) -> AsyncIterator[httpx.AsyncClient]:
    """The API in-process, called by a case manager."""
    transport = httpx.ASGITransport(app=build_api(directory))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://directory.test", headers=bearer_headers(directory)
    ) as http:
        yield http
