"""The audit trail: every read of personal data by a person, next to every write.

Writes are already attributed in the event store (actor, role, agency in each event's metadata);
reads are recorded here, each in its own committed transaction so a failing request cannot roll
its audit record back. Program managers query both through `GET /v1/audit?referral_id=`.
"""

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Annotated, Any

from alembic import op
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import BigInteger, Column, Integer, String, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from divert_platform.auth import Principal, allow
from divert_platform.clock import utcnow
from divert_platform.columns import UtcDateTime
from divert_platform.problems import NotFound, problem_responses
from divert_platform.schema import events, metadata

PURPOSE_HEADER = "X-Divert-Purpose"

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


def stated_purpose(request: Request) -> str | None:
    """The purpose the caller gave in `X-Divert-Purpose`, if any (trimmed to 200 characters)."""
    purpose = request.headers.get(PURPOSE_HEADER)
    return purpose.strip()[:200] if purpose and purpose.strip() else None


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
                "purpose": None,
            }
            for w in writes
        ]
        return sorted(entries, key=lambda entry: entry["at"])


class AuditEntry(BaseModel):
    """One read or write concerning a referral."""

    at: datetime
    actor: str | None
    role: str | None
    agency: str | None
    action: str
    what: str
    purpose: str | None


class AuditPage(BaseModel):
    """A referral's audit trail, oldest first."""

    referral_id: str
    entries: list[AuditEntry]


def audit_router(
    trail: AuditTrail,
    *,
    jurisdiction_of: Callable[[str], Awaitable[str | None]],
    streams_of: Callable[[str], Sequence[str]],
) -> APIRouter:
    """`GET /v1/audit?referral_id=` for program managers of the referral's jurisdiction."""
    router = APIRouter(tags=["audit"], responses=problem_responses(401, 403, 404, 422, 500))

    @router.get("/v1/audit", response_model=AuditPage, summary="Who read and changed a referral's data")
    async def audit(
        referral_id: Annotated[str, Query(max_length=36, description="The referral whose trail to show.")],
        principal: Annotated[Principal, Depends(allow("program_manager"))],
    ) -> AuditPage:
        """Every read of the referral's personal data by a person, and every write, in this service."""
        if await jurisdiction_of(referral_id) != principal.jurisdiction:
            raise NotFound(f"no referral {referral_id} in {principal.jurisdiction}")  # others' ids do not exist
        entries = await trail.trail(referral_id, streams_of(referral_id))
        return AuditPage(referral_id=referral_id, entries=[AuditEntry(**entry) for entry in entries])

    return router
