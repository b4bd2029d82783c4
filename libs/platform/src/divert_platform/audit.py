"""The audit trail: every read of personal data by a person, next to every write.

Writes are already attributed in the event store (actor, role, agency in each event's metadata);
reads are recorded here, each in its own committed transaction so a failing request cannot roll
its audit record back. Program managers query both through `GET /v1/audit?referral_id=`.
"""

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal, Protocol

from alembic import op
from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel, Field
from sqlalchemy import BigInteger, Column, Integer, String, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from divert_platform.auth import Principal, allow, authenticated
from divert_platform.clock import utcnow
from divert_platform.columns import UtcDateTime
from divert_platform.dependencies import ReadSession, ServiceParts, service_parts
from divert_platform.problems import NotFound, problem_responses
from divert_platform.schema import events, metadata
from divert_platform.text import IDENTIFIER_PATTERN, NO_CONTROL_CHARACTERS, Code, free_text

PURPOSE_HEADER = "X-Divert-Purpose"
WRITE_REASON = "reason"
"""The event-store metadata key of a write's reason code, shown as its `purpose` in the trail."""
MAX_PURPOSE = 200
MAX_ENTRIES = 1000
"""The most entries one page of a trail holds; `next_offset` leads to the rest."""
MAX_OFFSET = 10_000_000

Actor = Annotated[str, free_text(200)]
"""Who acted: a token's subject (checked against this bound when the token is verified)."""
Agency = Annotated[str, free_text(64)]
ReferralIdText = Annotated[str, Field(min_length=1, max_length=36, pattern=IDENTIFIER_PATTERN)]

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("agency", String(64)),
    Column("action", String(32), nullable=False),
    Column("resource", String(200), nullable=False),
    Column("referral_id", String(36), index=True),
    Column("purpose", String(200)),
)


def create_audit_table_v1() -> None:
    """Create `audit_log` inside an Alembic migration (frozen like a migration)."""
    metadata.create_all(op.get_bind(), tables=[audit_log])


def drop_audit_table_v1() -> None:
    """Drop what `create_audit_table_v1` created."""
    metadata.drop_all(op.get_bind(), tables=[audit_log])


class AuditTrail:
    """Records reads and lists a referral's reads and writes."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record_read(
        self, principal: Principal, *, resource: str, referral_ids: Sequence[str | None], purpose: str | None
    ) -> None:
        """Record that `principal` read `resource` about each referral, committed at once.

        Call it after the read's own transaction has closed: on SQLite a second writer inside an
        open unit of work would wait for it.
        """
        now = utcnow()
        rows = [
            {
                "at": now,
                "actor": principal.subject,
                "role": principal.role,
                "agency": principal.agency,
                "action": "read",
                "resource": resource,
                "referral_id": referral_id,
                "purpose": purpose,
            }
            for referral_id in referral_ids
        ]
        if not rows:
            return  # an empty result showed nobody's data
        async with self._sessions() as session, session.begin():
            await session.execute(insert(audit_log), rows)

    async def trail(self, referral_id: str, streams: Sequence[str]) -> list[dict[str, Any]]:
        """Every recorded read of the referral and every write to its streams, oldest first."""
        async with self._sessions() as session:
            reads = (await session.execute(select(audit_log).where(audit_log.c.referral_id == referral_id))).all()
            writes = (await session.execute(select(events).where(events.c.stream_id.in_(list(streams))))).all()
        entries = [
            {
                "at": r.at,
                "actor": r.actor,
                "role": r.role,
                "agency": r.agency,
                "action": "read",
                "what": r.resource,
                "purpose": r.purpose,
            }
            for r in reads
        ] + [
            {
                "at": w.recorded_at,
                "actor": w.metadata.get("actor"),
                "role": w.metadata.get("role"),
                "agency": w.metadata.get("agency"),
                "action": "write",
                "what": w.event_type,
                # A write records its reason where the command carries one (a reason code, never free text).
                "purpose": w.metadata.get(WRITE_REASON),
            }
            for w in writes
        ]
        return sorted(entries, key=lambda entry: entry["at"])


class AuditEntry(BaseModel):
    """One read or write concerning a referral."""

    at: datetime
    actor: Actor | None
    role: Code | None
    agency: Agency | None
    action: Literal["read", "write"]
    what: Annotated[str, free_text(200)] = Field(description="The resource read, or the event type written.")
    purpose: Annotated[str, free_text(MAX_PURPOSE)] | None = Field(
        description="Why: the purpose given with a read, or the reason code of a write whose command carries one."
    )


class AuditPage(BaseModel):
    """One page of a referral's audit trail, oldest first; pass `next_offset` as `offset` for the next."""

    referral_id: ReferralIdText
    entries: list[AuditEntry] = Field(max_length=MAX_ENTRIES)
    next_offset: int | None = Field(
        None, ge=0, le=MAX_OFFSET + MAX_ENTRIES, description="Where the next page starts; null on the last page."
    )


class ReadRecord(Protocol):
    """Records a read of personal data (what service-layer code is given, so fakes can stand in)."""

    async def record(self, resource: str, referral_ids: Sequence[str | None]) -> None:
        """Record that the caller read `resource` about each referral."""
        ...


class AuditedRead:
    """A read of personal data: the session to read with, then the record of who read what and why."""

    def __init__(self, session: AsyncSession, trail: AuditTrail, caller: Principal, purpose: str | None) -> None:
        self.session = session
        self._trail = trail
        self._caller = caller
        self._purpose = purpose

    async def record(self, resource: str, referral_ids: Sequence[str | None]) -> None:
        """Record that the caller read `resource` about each referral, committed at once.

        The read's session is closed first: the read is over, and on SQLite the process's one
        connection is held by an open transaction, which the record would otherwise wait for.
        """
        await self.session.close()
        await self._trail.record_read(self._caller, resource=resource, referral_ids=referral_ids, purpose=self._purpose)


async def audited_read(
    parts: Annotated[ServiceParts, Depends(service_parts)],
    caller: Annotated[Principal, Depends(authenticated)],
    purpose: Annotated[
        str | None,
        Header(
            alias=PURPOSE_HEADER,
            max_length=MAX_PURPOSE,
            pattern=NO_CONTROL_CHARACTERS,
            description="Why you read this (recorded in the audit trail with the read).",
        ),
    ] = None,
) -> AsyncIterator[AuditedRead]:
    """FastAPI dependency: a session for a read of personal data, and its audit record."""
    stated = purpose.strip() if purpose and purpose.strip() else None
    async with parts.sessions() as session:
        yield AuditedRead(session, AuditTrail(parts.sessions), caller, stated)


Audited = Annotated[AuditedRead, Depends(audited_read)]
"""A read route's parameter: `read: Audited`; read with `read.session`, then `await read.record(...)`."""

JurisdictionOf = Callable[[AsyncSession, str], Awaitable[str | None]]
StreamsOf = Callable[[AsyncSession, str], Awaitable[Sequence[str]]]


def audit_router(*, jurisdiction_of: JurisdictionOf, streams_of: StreamsOf) -> APIRouter:
    """`GET /v1/audit?referral_id=` for program managers of the referral's jurisdiction.

    `jurisdiction_of` finds the referral's jurisdiction in the service's read models (None when
    the service does not know it); `streams_of` names the event streams holding its writes.
    """
    router = APIRouter(tags=["audit"], responses=problem_responses(401, 403, 404, 422, 500))

    @router.get("/v1/audit", response_model=AuditPage, summary="Who read and changed a referral's data")
    async def audit(
        referral_id: Annotated[
            str, Query(max_length=36, pattern=IDENTIFIER_PATTERN, description="The referral whose trail to show.")
        ],
        caller: Annotated[Principal, Depends(allow("program_manager"))],
        parts: Annotated[ServiceParts, Depends(service_parts)],
        session: ReadSession,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="`next_offset` of the previous page.")] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_ENTRIES, description="At most this many entries.")] = MAX_ENTRIES,
    ) -> AuditPage:
        """Every read of the referral's personal data by a person, and every write, in this service,
        a page at a time (a trail only grows at its end, so pages by position are stable)."""
        if await jurisdiction_of(session, referral_id) != caller.jurisdiction:
            raise NotFound(f"no referral {referral_id} in {caller.jurisdiction}")  # others' ids do not exist
        streams = await streams_of(session, referral_id)
        await session.close()  # on SQLite the trail's own session would wait for this one's connection
        entries = await AuditTrail(parts.sessions).trail(referral_id, streams)
        page = entries[offset : offset + limit]
        following = offset + limit if len(entries) > offset + limit else None
        return AuditPage(
            referral_id=referral_id, entries=[AuditEntry(**entry) for entry in page], next_offset=following
        )

    return router
