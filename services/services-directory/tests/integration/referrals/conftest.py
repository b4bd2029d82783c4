"""Fixtures of the matching and service-referral tests: a migrated directory, HSDS services put into
its catalogue, cases fed in the way the consumer feeds them, and tokens to call the API with.

Cases of king-county belong to `CASE_AGENCY`; `client` is one of its case managers (`cm-7`).
"""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from divert_contracts.base import IntegrationEvent
from divert_contracts.cases import (
    CaseAssessmentCompleted,
    CaseClosed,
    CaseConsentRecorded,
    CaseConsentRevoked,
    CaseOpened,
    CaseReopened,
    Need,
)
from divert_directory.adapters.catalogue import SqlCatalogue
from divert_directory.adapters.catalogue_store import upsert
from divert_directory.bootstrap import MIGRATIONS, Directory, bootstrap
from divert_directory.config import DirectorySettings
from divert_directory.entrypoints.api import build_api
from divert_directory.entrypoints.consumer import case_handlers
from divert_platform.auth import Role, mint_token
from divert_platform.cause import caused_by_event
from divert_platform.clock import utcnow
from divert_platform.settings import DEFAULT_CASE_AGENCIES
from divert_platform.testing import migrate

UNREACHABLE_BROKER = "127.0.0.1:1"
CASE_AGENCY = DEFAULT_CASE_AGENCIES["king-county"]
OTHER_AGENCY = DEFAULT_CASE_AGENCIES["albany"]
DEFAULT_CLAIMS: dict[str, dict[str, str | None]] = {
    "case_manager": {"agency": CASE_AGENCY},
    "program_manager": {"jurisdiction": "king-county"},
    "evaluator": {"jurisdiction": "king-county"},
    "officer": {"agency": "SPD"},
}
NEEDS_TAXONOMY, JURISDICTIONS_TAXONOMY = UUID(int=0xA1), UUID(int=0xA2)

Bearer = Callable[..., dict[str, str]]


def settings_for(database_url: str, **overrides: Any) -> DirectorySettings:
    """The settings every test directory is built with (tokens are minted with the same ones)."""
    return DirectorySettings(**({"database_url": database_url, "kafka_bootstrap": UNREACHABLE_BROKER} | overrides))


@pytest_asyncio.fixture
async def directory(database_url: str) -> AsyncIterator[Directory]:
    """The directory's parts over a freshly migrated database."""
    await migrate(database_url, MIGRATIONS)
    parts = bootstrap(settings_for(database_url))
    try:
        yield parts
    finally:
        await parts.engine.dispose()


def bearer_headers(settings: DirectorySettings, role: Role = "case_manager", **claims: Any) -> dict[str, str]:
    """`Authorization` for a caller in `role` (subject `cm-7` and the role's usual scope by default)."""
    claims = {"subject": "cm-7"} | DEFAULT_CLAIMS.get(role, {}) | claims
    return {"Authorization": f"Bearer {mint_token(settings, role=role, **claims)}"}


@pytest.fixture
def bearer(directory: Directory) -> Bearer:
    """Headers with a token the app accepts: `bearer("program_manager", jurisdiction="albany")`."""
    return partial(bearer_headers, directory.settings)


@pytest_asyncio.fixture
async def client(directory: Directory, bearer: Bearer) -> AsyncIterator[httpx.AsyncClient]:
    """The API in-process, called as `cm-7`, a case manager of `CASE_AGENCY`."""
    transport = httpx.ASGITransport(app=build_api(directory))
    async with httpx.AsyncClient(transport=transport, base_url="http://directory", headers=bearer()) as http:
        yield http


@dataclass
class Catalogue:
    """Puts HSDS services into the directory's catalogue through the catalogue's own writer."""

    directory: Directory
    terms: dict[tuple[str, str], str] = field(default_factory=dict)

    async def add(
        self,
        name: str,
        *needs: str,
        jurisdictions: tuple[str, ...] = ("king-county",),
        postal_codes: tuple[str, ...] = (),
        status: str = "active",
        organization_id: UUID | None = None,
    ) -> UUID:
        """A service meeting `needs` for `jurisdictions` (limited to `postal_codes` if given); its id."""
        service_id, organization_id = uuid4(), organization_id or uuid4()
        now = utcnow()
        records: dict[str, list[dict[str, Any]]] = {
            "taxonomy": [
                {"id": str(NEEDS_TAXONOMY), "name": "divert-needs", "description": "needs"},
                {"id": str(JURISDICTIONS_TAXONOMY), "name": "divert-jurisdictions", "description": "jurisdictions"},
            ],
            "organization": [{"id": str(organization_id), "name": f"{name} org", "description": "test"}],
            "service": [
                {"id": str(service_id), "name": name, "status": status, "organization_id": str(organization_id)}
            ],
            "taxonomy_term": [],
            "attribute": [],
            "service_area": [],
        }
        for taxonomy, code in [(NEEDS_TAXONOMY, need) for need in needs] + [
            (JURISDICTIONS_TAXONOMY, j) for j in jurisdictions
        ]:
            term_id = self.terms.setdefault((str(taxonomy), code), str(uuid4()))
            records["taxonomy_term"].append(
                {"id": term_id, "code": code, "name": code, "description": code, "taxonomy_id": str(taxonomy)}
            )
            records["attribute"].append(
                {"id": str(uuid4()), "link_id": str(service_id), "link_type": "service", "taxonomy_term_id": term_id}
            )
        if postal_codes:
            records["service_area"].append(
                {
                    "id": str(uuid4()),
                    "service_id": str(service_id),
                    "extent_type": "text",
                    "extent": ", ".join(postal_codes),
                }
            )
        async with self.directory.sessions() as session, session.begin():
            for type_name, rows in records.items():
                await upsert(session, type_name, rows, now)
        return service_id

    async def organization_of(self, service_id: UUID) -> UUID:
        """The organization providing the service."""
        async with self.directory.sessions() as session:
            offer = await SqlCatalogue(session).offer(service_id)
        assert offer is not None
        return offer.organization_id


@pytest.fixture
def catalogue(directory: Directory) -> Catalogue:
    """Add services: `await catalogue.add("Shelter", "housing", postal_codes=("98101",))`."""
    return Catalogue(directory)


@dataclass
class Cases:
    """Feeds case events to the directory through the consumer's own handlers, each committed."""

    directory: Directory

    async def deliver(self, event: IntegrationEvent, *, ce_id: str | None = None, time: datetime | None = None) -> None:
        """Apply one event as the consumer would (without the inbox: see the consumer tests)."""
        handler = case_handlers(self.directory.settings.case_agencies)[type(event)]
        unit = self.directory.unit_of_work()
        unit.cause = caused_by_event("/divert/assessment", ce_id or str(uuid4()), time or datetime.now(UTC))
        async with unit as uow:
            await handler(event, uow)
            await uow.commit()

    async def open(self, jurisdiction: str = "king-county", *needs: tuple[str, int]) -> UUID:
        """Open a case and, with `needs`, complete its assessment; its referral id."""
        referral_id, now = uuid4(), utcnow()
        await self.deliver(
            CaseOpened(
                referral_id=referral_id,
                jurisdiction=jurisdiction,
                pathway="arrest_diversion",
                opened_at=now - timedelta(days=1),
                assessment_due_by=now + timedelta(days=29),
            )
        )
        if needs:
            await self.assess(referral_id, *needs, jurisdiction=jurisdiction)
        return referral_id

    async def assess(
        self, referral_id: UUID, *needs: tuple[str, int], jurisdiction: str = "king-county", at: datetime | None = None
    ) -> None:
        """Complete the case's assessment with `needs` as (domain, priority)."""
        await self.deliver(
            CaseAssessmentCompleted(
                referral_id=referral_id,
                jurisdiction=jurisdiction,
                completed_at=at or utcnow() - timedelta(hours=1),
                assessment_due_by=None,
                on_time=True,
                needs=tuple(
                    Need(domain=domain, priority=priority, part2=domain == "substance_use_treatment")
                    for domain, priority in needs
                ),
            )
        )

    async def consent(
        self,
        referral_id: UUID,
        *parties: UUID | str,
        purpose: str = "service_referral",
        part2: bool = False,
        expires_in: timedelta = timedelta(days=30),
        jurisdiction: str = "king-county",
        scope: str = "contact_details",
    ) -> UUID:
        """Record a consent naming `parties`; its id."""
        consent_id, now = uuid4(), utcnow()
        await self.deliver(
            CaseConsentRecorded(
                referral_id=referral_id,
                jurisdiction=jurisdiction,
                consent_id=consent_id,
                parties=tuple(str(party) for party in parties),
                purpose=purpose,
                scope=scope,
                part2=part2,
                recorded_at=now - timedelta(minutes=1),
                expires_at=now + expires_in,
            )
        )
        return consent_id

    async def revoke(self, referral_id: UUID, consent_id: UUID, jurisdiction: str = "king-county") -> None:
        """Revoke a consent now."""
        await self.deliver(
            CaseConsentRevoked(
                referral_id=referral_id, jurisdiction=jurisdiction, consent_id=consent_id, revoked_at=utcnow()
            )
        )

    async def close(self, referral_id: UUID, jurisdiction: str = "king-county") -> None:
        """Close the case now."""
        now = utcnow()
        await self.deliver(
            CaseClosed(referral_id=referral_id, jurisdiction=jurisdiction, reason="moved_away", closed_at=now),
            time=now,
        )

    async def reopen(self, referral_id: UUID, jurisdiction: str = "king-county") -> None:
        """Reopen the case now."""
        now = utcnow()
        await self.deliver(CaseReopened(referral_id=referral_id, jurisdiction=jurisdiction, reopened_at=now), time=now)


@pytest.fixture
def cases(directory: Directory) -> Cases:
    """Open, assess and consent cases as the consumer would."""
    return Cases(directory)


@pytest.fixture
def rows(directory: Directory) -> Callable[..., Any]:
    """Read a table's rows (as mappings) in a fresh transaction: `await rows(table, *where)`."""

    async def read(table: Any, *where: Any) -> list[dict[str, Any]]:
        async with directory.sessions() as session:
            return [dict(row._mapping) for row in await session.execute(select(table).where(*where))]

    return read
