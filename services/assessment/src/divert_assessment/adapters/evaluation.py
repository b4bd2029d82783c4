"""The evaluation extract's reads (docs/domain.md#the-evaluation-extract): the cases of a window,
their consents, and who was referred when, from the read models."""

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from divert_assessment.adapters.tables import cases, consents
from divert_assessment.domain.consent_gate import Consent
from divert_assessment.domain.evaluation import FoundNeed
from divert_assessment.domain.person_key import Identity
from divert_platform.pagination import Order, page

OLDEST_REFERRAL = Order("evaluation", (cases.c.referred_at, cases.c.referral_id))
"""The extract's order: oldest referral first, then by referral id (unique, so pages never split ties)."""

_IDENTITY = (cases.c.rms_agency, cases.c.rms_person_id, cases.c.family_name, cases.c.given_name, cases.c.date_of_birth)


def _in_window(jurisdiction: str, referred_from: datetime, referred_to: datetime) -> list[Any]:
    c = cases.c
    return [c.jurisdiction == jurisdiction, c.referred_at >= referred_from, c.referred_at < referred_to]


async def evaluation_cases(
    session: AsyncSession,
    jurisdiction: str,
    referred_from: datetime,
    referred_to: datetime,
    *,
    cursor: str | None,
    limit: int,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the jurisdiction's cases referred in `[referred_from, referred_to)`, oldest
    first, and the next page's cursor (None on the last). Raises `InvalidCursor`."""
    query = select(cases).where(*_in_window(jurisdiction, referred_from, referred_to))
    return await page(session, query, OLDEST_REFERRAL, cursor=cursor, limit=limit)


async def consents_of(session: AsyncSession, referral_ids: list[str]) -> dict[str, list[Consent]]:
    """Every consent recorded on each of the cases, in force or not."""
    found: dict[str, list[Consent]] = defaultdict(list)
    if not referral_ids:
        return found
    rows = await session.execute(select(consents).where(consents.c.referral_id.in_(referral_ids)))
    for row in rows:
        found[row.referral_id].append(
            Consent(
                consent_id=UUID(row.consent_id),
                parties=tuple(row.parties),
                scope=row.scope,
                part2=row.part2,
                expires_at=row.expires_at,
                revoked_at=row.revoked_at,
            )
        )
    return found


def identity_of(row: Mapping[str, Any]) -> Identity:
    """Who a case's row says the person is (what the person key is made from)."""
    return Identity(
        rms_agency=row["rms_agency"],
        rms_person_id=row["rms_person_id"],
        family_name=row["family_name"],
        given_name=row["given_name"],
        date_of_birth=row["date_of_birth"],
    )


def needs_of(row: dict[str, Any]) -> list[FoundNeed]:
    """The needs the case's assessment found (none before it is assessed)."""
    return [FoundNeed(need["domain"], need["priority"], need["part2"]) for need in row["needs"] or []]


async def referrals_of_people(
    session: AsyncSession, jurisdiction: str, referred_from: datetime, referred_to: datetime
) -> list[tuple[Identity, datetime]]:
    """Who was referred in the window, and when: each case's identity and referral time."""
    rows = await session.execute(
        select(*_IDENTITY, cases.c.referred_at).where(*_in_window(jurisdiction, referred_from, referred_to))
    )
    return [(identity_of(dict(row._mapping)), row.referred_at) for row in rows]
