"""Property-based API testing with schemathesis: whatever a client sends to the catalogue, the
directory answers with a documented status and a body matching its own OpenAPI, never a 5xx.

The catalogue holds the bundled seed; requests carry a case manager's token (the catalogue's
readers all see the same thing), so the fuzzer gets past 401 into the routes themselves.
"""

import asyncio
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import positive_data_acceptance
from schemathesis.core.parameters import ParameterLocation
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from divert_directory.bootstrap import MIGRATIONS, Directory
from divert_directory.config import DirectorySettings
from divert_directory.entrypoints.api import build_api
from divert_directory.entrypoints.catalogue_import import SEED, load_catalogue
from divert_platform.auth import mint_token
from divert_platform.db import create_session_factory
from divert_platform.migrations import upgrade_to_head
from divert_platform.text import IDENTIFIER_PATTERN

# schemathesis needs the schema when tests are collected, so the app is built here; it touches
# the database only once the fixture below has migrated and seeded it.
_DATA = Path(tempfile.mkdtemp(prefix="divert-directory-fuzz-"))
_DATABASE_URL = f"sqlite+aiosqlite:///{_DATA / 'directory.db'}"
# schemathesis drives the ASGI app from its own event loops: pooled connections would outlive
# the loop that opened them, so every session opens a fresh connection.
_ENGINE = create_async_engine(_DATABASE_URL, poolclass=NullPool, connect_args={"timeout": 30})
_SETTINGS = DirectorySettings(database_url=_DATABASE_URL, kafka_bootstrap="127.0.0.1:1")
_DIRECTORY = Directory(_SETTINGS, _ENGINE, create_session_factory(_ENGINE))
_APP = build_api(_DIRECTORY)
_TOKEN = mint_token(_SETTINGS, subject="cm-1", role="case_manager", agency="reach-king-county")
_CATALOGUE = ("/services", "/organizations", "/service_at_locations", "/taxonomies", "/taxonomy_terms")
# ids the fuzzer can find: random ones only ever reach the 404s
_KNOWN_IDS = {
    "/services": "0ff5beec-01b4-5242-b85b-d9c2a7725b38",
    "/organizations": "226461cf-c49b-5e3f-b835-80444e7d6e98",
}

schema = schemathesis.openapi.from_asgi("/openapi.json", _APP)


@schema.hook
def flatmap_path_parameters(
    context: Any, path_parameters: dict[str, Any] | None
) -> st.SearchStrategy[dict[str, Any] | None]:
    """Now and then, aim at a seeded service or organization: only in place of an id that is valid
    itself. An id generated to break the schema (negative testing) stays, or a request whose only
    other fault is one the API tolerates (an unknown query parameter) would be "accepted"."""
    if not path_parameters or "id" not in path_parameters:
        return st.just(path_parameters)
    generated = path_parameters["id"]
    # Path values reach the hook percent-encoded: judge the id the API will see.
    decoded = unquote(generated) if isinstance(generated, str) else None
    if not (decoded and len(decoded) <= 100 and re.fullmatch(IDENTIFIER_PATTERN, decoded)):
        return st.just(path_parameters)
    return st.just(path_parameters) | st.sampled_from(sorted(_KNOWN_IDS.values())).map(lambda i: {"id": i})


@pytest.fixture(scope="module", autouse=True)
def seeded_database() -> Iterator[None]:
    upgrade_to_head(_DATABASE_URL, MIGRATIONS)
    report = asyncio.run(load_catalogue(_DIRECTORY, SEED))
    assert report.ok, report.errors
    yield
    shutil.rmtree(_DATA, ignore_errors=True)


@schema.include(path_regex="^/(services|organizations|service_at_locations|taxonomies|taxonomy_terms)").parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_5xx_and_every_response_matches_the_schema(case: schemathesis.Case) -> None:
    # Schema-valid is not the same as acceptable: `proximity` is documented as refused (422), so
    # only that one check is left out.
    case.call_and_validate(headers=_headers_for(case), excluded_checks=[positive_data_acceptance])


def _headers_for(case: schemathesis.Case) -> dict[str, str]:
    """A reader's token, except when the fuzzer deliberately sends bad headers."""
    if case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER):
        return {}
    return {"Authorization": f"Bearer {_TOKEN}"} if case.path.startswith(_CATALOGUE) else {}
