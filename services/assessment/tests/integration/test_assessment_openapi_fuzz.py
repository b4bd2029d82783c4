"""Property-based API testing with schemathesis: whatever a client sends, assessment answers with
a documented status and a body that matches its own OpenAPI schema, and never with a 5xx.

Each request carries the token of a caller its route admits (a case manager of the agency owning
the seeded cases, or a program manager of their jurisdiction), so the fuzzer gets past 401/403
into the routes themselves.
"""

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import positive_data_acceptance
from schemathesis.core.parameters import ParameterLocation
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from divert_assessment.bootstrap import MIGRATIONS, Assessment
from divert_assessment.config import AssessmentSettings
from divert_assessment.domain import commands
from divert_assessment.domain.organisations import load_organisations
from divert_assessment.entrypoints.api import build_api
from divert_assessment.entrypoints.consumer import consumer_handlers
from divert_assessment.service_layer import handlers
from divert_contracts.referrals import Location, ReferralAccepted, RmsReference, Subject
from divert_platform.auth import Principal, mint_token
from divert_platform.cause import caused_by_event
from divert_platform.db import create_session_factory
from divert_platform.migrations import upgrade_to_head

# schemathesis needs the schema when tests are collected, so the app is built here; it touches
# the database only once the fixture below has migrated it.
_DATA = Path(tempfile.mkdtemp(prefix="divert-assessment-fuzz-"))
_DATABASE_URL = f"sqlite+aiosqlite:///{_DATA / 'assessment.db'}"
# schemathesis drives the ASGI app from its own event loops: pooled connections would outlive
# the loop that opened them, so every session opens a fresh connection.
_ENGINE = create_async_engine(_DATABASE_URL, poolclass=NullPool, connect_args={"timeout": 30})
_SETTINGS = AssessmentSettings(database_url=_DATABASE_URL, kafka_bootstrap="127.0.0.1:1")

_ASSESSMENT = Assessment(_SETTINGS, _ENGINE, create_session_factory(_ENGINE), load_organisations())
_APP = build_api(_ASSESSMENT)
# Cases the fuzzer can find: random ids only ever reach the 404s, these reach 200s, 403s and 409s.
_CASES = [UUID(int=n) for n in range(1, 5)]
_JURISDICTION = "king-county"
_AGENCY = _SETTINGS.case_agencies[_JURISDICTION]  # owns the seeded cases
_CASE_MANAGER = Principal("cm-1", "case_manager", _AGENCY)
_HEADERS = {
    "/v1/cases": mint_token(_SETTINGS, subject="cm-1", role="case_manager", agency=_AGENCY),
    "/v1/organisations": mint_token(_SETTINGS, subject="cm-1", role="case_manager", agency=_AGENCY),
    "/v1/reports": mint_token(_SETTINGS, subject="pm-1", role="program_manager", jurisdiction=_JURISDICTION),
    "/v1/audit": mint_token(_SETTINGS, subject="pm-1", role="program_manager", jurisdiction=_JURISDICTION),
}

schema = schemathesis.openapi.from_asgi("/openapi.json", _APP)


@schema.hook
def flatmap_path_parameters(
    context: Any, path_parameters: dict[str, Any] | None
) -> st.SearchStrategy[dict[str, Any] | None]:
    """Half the time, aim at a case that exists."""
    if not path_parameters or "referral_id" not in path_parameters:
        return st.just(path_parameters)
    known = st.sampled_from(_CASES).map(lambda referral_id: path_parameters | {"referral_id": str(referral_id)})
    return st.just(path_parameters) | known


@schema.hook
def flatmap_query(context: Any, query: dict[str, Any] | None) -> st.SearchStrategy[dict[str, Any] | None]:
    """Half the time, ask for the audit trail of a case that exists."""
    if not query or "referral_id" not in query:
        return st.just(query)
    known = st.sampled_from(_CASES).map(lambda referral_id: query | {"referral_id": str(referral_id)})
    return st.just(query) | known


async def _seed() -> None:
    """A case in each state, with needs, consents and contacts, opened and moved as in production."""
    now = datetime.now(UTC)
    for n, referral_id in enumerate(_CASES):
        accepted = ReferralAccepted(
            referral_id=referral_id,
            jurisdiction=_JURISDICTION,
            pathway="arrest_diversion",
            referred_at=now - timedelta(days=2),
            policy="king-county",
            policy_version="2025-01",
            assessment_due_by=now + timedelta(days=n - 1),
            lapse_action="warrant_request",
            rms=RmsReference(agency="SPD", case_number=f"24-{n:06}", officer_id="o-1"),
            subject=Subject(given_name="Ana", family_name="Diaz", rms_person_id=f"P-{n}", phone="555-0100"),
            location=Location(precinct="East"),
            offense_category="drug_possession",
        )
        steps = [
            partial(
                handlers.record_consent,
                commands.RecordConsent(
                    referral_id,
                    uuid4(),
                    ("demo-case-agency",),
                    "care_coordination",
                    "full_case",
                    True,
                    now + timedelta(days=30),
                    now,
                ),
            ),
            partial(
                handlers.complete_assessment,
                commands.CompleteAssessment(
                    referral_id,
                    now - timedelta(days=1),
                    "cm-1",
                    (commands.NeedFound("substance_use_treatment", 1), commands.NeedFound("housing", 2)),
                    now,
                ),
            ),
            partial(handlers.enroll, commands.Enroll(referral_id, now - timedelta(hours=1), now)),
            partial(handlers.close, commands.Close(referral_id, "transferred", now, now)),
        ]
        open_case = consumer_handlers(_ASSESSMENT)[ReferralAccepted]
        opening = _ASSESSMENT.unit_of_work()
        opening.cause = caused_by_event("/divert/intake", str(uuid4()), now)
        async with opening as uow:
            await open_case(accepted, uow)
            await uow.commit()
        changing = _ASSESSMENT.unit_of_work()
        changing.cause = _CASE_MANAGER.cause()
        async with changing as uow:
            for step in steps[:n]:
                await step(uow)
            await uow.commit()


@pytest.fixture(scope="module", autouse=True)
def migrated_database() -> Iterator[None]:
    upgrade_to_head(_DATABASE_URL, MIGRATIONS)
    asyncio.run(_seed())
    yield
    shutil.rmtree(_DATA, ignore_errors=True)


@schema.exclude(path_regex="^/readyz$").parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_5xx_and_every_response_matches_the_schema(case: schemathesis.Case) -> None:
    # Schema-valid is not the same as acceptable: an unknown case, a command its state does not
    # allow, a date in the future, a window that ends before it starts or a forged cursor are
    # rightly 404s, 409s and 422s. The issue asks for no 5xx and schema-true responses, so only
    # that one check is left out.
    case.call_and_validate(headers=_headers_for(case), excluded_checks=[positive_data_acceptance])


def _headers_for(case: schemathesis.Case) -> dict[str, str]:
    """The token of a caller the route admits; none for the public routes, and none when the
    fuzzer is deliberately sending bad headers (a missing or forged token must then be refused)."""
    if case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER):
        return {}
    for prefix, token in _HEADERS.items():
        if case.path.startswith(prefix):
            return {"Authorization": f"Bearer {token}"}
    return {}
