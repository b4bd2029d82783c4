"""The case-facts and consent stores: what the directory keeps of each case and each consent.

Both are state-based stores, not event-sourced: the events were assessment's, and the directory
keeps only their merged result, one row per case (`directory_cases`) and per consent
(`directory_case_consents`), updated in place. The consumer `lock()`s a row (creating it if
absent) before merging an event into it, so two members of the consumer group racing on one case
during a rebalance apply one after the other (on PostgreSQL the second waits for the first's
commit; SQLite runs writers one at a time). The functions at the end are the read side.
"""

from typing import Any
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from divert_directory.adapters.referral_tables import directory_case_consents, directory_cases
from divert_directory.domain.case_facts import CaseFacts, ConsentFact, NeedFact
from divert_platform.clock import utcnow
from divert_platform.db import insert_unless_present


class SqlCaseFacts:
    """Case facts in the unit of work's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock(self, referral_id: UUID, *, jurisdiction: str, agency: str | None) -> CaseFacts:
        """The case's facts, its row created (with `jurisdiction` and `agency`) if absent, locked
        until the transaction ends."""
        await insert_unless_present(
            self._session,
            directory_cases,
            {
                "referral_id": str(referral_id),
                "jurisdiction": jurisdiction,
                "agency": agency,
                "needs": [],
                "updated_at": utcnow(),
            },
            key=["referral_id"],
        )
        query = select(directory_cases).where(directory_cases.c.referral_id == str(referral_id)).with_for_update()
        return case_facts_of((await self._session.execute(query)).one()._mapping)

    async def save(self, facts: CaseFacts) -> None:
        """Store the facts of a case locked with `lock()`."""
        await self._session.execute(
            update(directory_cases)
            .where(directory_cases.c.referral_id == str(facts.referral_id))
            .values(
                agency=facts.agency,
                opened_at=facts.opened_at,
                needs=[{"domain": n.domain, "priority": n.priority, "part2": n.part2} for n in facts.needs],
                assessed_at=facts.assessed_at,
                closed_at=facts.closed_at,
                last_closure_at=facts.last_closure_at,
                last_reopening_at=facts.last_reopening_at,
                updated_at=utcnow(),
            )
        )

    async def find(self, referral_id: UUID, *, agency: str | None) -> CaseFacts | None:
        """The case's facts when `agency` owns the case; None when unknown or another agency's."""
        return await find_case_facts(self._session, referral_id, agency=agency)


class SqlConsents:
    """Consents in the unit of work's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock(self, consent_id: UUID, referral_id: UUID) -> ConsentFact:
        """The consent's facts, its row created for `referral_id` if absent, locked until the
        transaction ends. The row's own case may differ from `referral_id`: the caller checks."""
        await insert_unless_present(
            self._session,
            directory_case_consents,
            {"consent_id": str(consent_id), "referral_id": str(referral_id), "parties": [], "part2": False},
            key=["consent_id"],
        )
        query = (
            select(directory_case_consents)
            .where(directory_case_consents.c.consent_id == str(consent_id))
            .with_for_update()
        )
        return consent_fact_of((await self._session.execute(query)).one()._mapping)

    async def save(self, consent: ConsentFact) -> None:
        """Store a consent locked with `lock()`."""
        await self._session.execute(
            update(directory_case_consents)
            .where(directory_case_consents.c.consent_id == str(consent.consent_id))
            .values(
                parties=list(consent.parties),
                purpose=consent.purpose,
                scope=consent.scope,
                part2=consent.part2,
                recorded_at=consent.recorded_at,
                expires_at=consent.expires_at,
                revoked_at=consent.revoked_at,
            )
        )

    async def of_case(self, referral_id: UUID) -> list[ConsentFact]:
        """Every consent heard of for the case (recorded or only revoked)."""
        return await find_consents(self._session, referral_id)


async def find_case_facts(session: AsyncSession, referral_id: UUID, *, agency: str | None) -> CaseFacts | None:
    """The case's facts when `agency` owns the case; None when unknown or another agency's."""
    if agency is None:
        return None
    query = select(directory_cases).where(
        directory_cases.c.referral_id == str(referral_id), directory_cases.c.agency == agency
    )
    row = (await session.execute(query)).first()
    return case_facts_of(row._mapping) if row else None


async def find_consents(session: AsyncSession, referral_id: UUID) -> list[ConsentFact]:
    """Every consent heard of for the case (recorded or only revoked)."""
    rows = await session.execute(
        select(directory_case_consents).where(directory_case_consents.c.referral_id == str(referral_id))
    )
    return [consent_fact_of(row._mapping) for row in rows]


async def jurisdiction_of_case(session: AsyncSession, referral_id: str) -> str | None:
    """The jurisdiction of a case heard of, whichever agency owns it, or None."""
    query = select(directory_cases.c.jurisdiction).where(directory_cases.c.referral_id == referral_id)
    return (await session.execute(query)).scalar_one_or_none()


def case_facts_of(row: Any) -> CaseFacts:
    """A `directory_cases` row as case facts."""
    return CaseFacts(
        referral_id=UUID(row["referral_id"]),
        jurisdiction=row["jurisdiction"],
        agency=row["agency"],
        opened_at=row["opened_at"],
        needs=tuple(NeedFact(n["domain"], n["priority"], n["part2"]) for n in row["needs"]),
        assessed_at=row["assessed_at"],
        closed_at=row["closed_at"],
        last_closure_at=row["last_closure_at"],
        last_reopening_at=row["last_reopening_at"],
    )


def consent_fact_of(row: Any) -> ConsentFact:
    """A `directory_case_consents` row as a consent fact."""
    return ConsentFact(
        consent_id=UUID(row["consent_id"]),
        referral_id=UUID(row["referral_id"]),
        parties=tuple(row["parties"]),
        purpose=row["purpose"],
        scope=row["scope"],
        part2=row["part2"],
        recorded_at=row["recorded_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
    )
