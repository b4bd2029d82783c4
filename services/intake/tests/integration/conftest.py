"""Fixtures of intake's API tests: a migrated database (SQLite, and PostgreSQL when configured),
the API over it in-process, and bearer tokens minted with the settings the API was built with."""

import copy
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio

from divert_intake.bootstrap import MIGRATIONS, Intake, bootstrap
from divert_intake.config import IntakeSettings
from divert_intake.entrypoints.api import build_api
from divert_platform.auth import Role, mint_token
from divert_platform.testing import migrate

Headers = dict[str, str]
Token = Callable[..., Headers]

REFERRAL: dict[str, Any] = {  # an SPD officer's King County arrest diversion
    "jurisdiction": "king-county",
    "pathway": "arrest_diversion",
    "referred_at": "2026-11-02T14:05:00-08:00",
    "rms": {"agency": "SPD", "case_number": "2026-334455", "officer_id": "7781"},
    "subject": {
        "given_name": "Jordan",
        "family_name": "Doe",
        "date_of_birth": "1988-04-02",
        "rms_person_id": "P-99812",
        "phone": "+12065550100",
    },
    "location": {"precinct": "West", "neighborhood": "Belltown"},
    "offense": {
        "category": "drug_possession",
        "statute": "RCW 69.50.4013",
        "drug_quantity_grams": 1.2,
        "drug_type": "opioid",
    },
    "screening": {
        "amenable": True,
        "dealing_for_profit": False,
        "exploits_minors": False,
        "promotes_prostitution": False,
        "disqualifying_convictions": [],
        "on_state_probation": False,
        "in_treatment_court": False,
        "no_contact_order_with_participant": False,
    },
    "contact_drivers": ["drug_use"],
}


@pytest.fixture
def referral_body() -> dict[str, Any]:
    """A fresh copy of an eligible King County arrest diversion referred by an SPD officer."""
    return copy.deepcopy(REFERRAL)


@pytest_asyncio.fixture
async def intake(database_url: str) -> AsyncIterator[Intake]:
    """Intake's parts over a freshly migrated database."""
    await migrate(database_url, MIGRATIONS)
    parts = bootstrap(IntakeSettings(database_url=database_url, kafka_bootstrap="127.0.0.1:1"))
    yield parts
    await parts.engine.dispose()


@pytest_asyncio.fixture
async def client(intake: Intake) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the API in-process; it sends no token of its own."""
    transport = httpx.ASGITransport(app=build_api(intake))
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
        yield http


def bearer(settings: IntakeSettings, role: Role, **claims: Any) -> Headers:
    """An `Authorization` header for `role` with `claims` (subject, agency, jurisdiction, lifetime)."""
    claims.setdefault("subject", f"{role}-test")
    return {"Authorization": f"Bearer {mint_token(settings, role=role, **claims)}"}


@pytest.fixture
def token(intake: Intake) -> Token:
    """Headers for any caller: `token("program_manager", jurisdiction="king-county")`."""
    return lambda role, **claims: bearer(intake.settings, role, **claims)


@pytest.fixture
def officer(token: Token) -> Headers:
    """An SPD officer (the agency of the tests' referrals), without a jurisdiction claim."""
    return token("officer", subject="officer-7781", agency="SPD")


@pytest.fixture
def manager(token: Token) -> Headers:
    """King County's program manager."""
    return token("program_manager", subject="pm-king", jurisdiction="king-county")
