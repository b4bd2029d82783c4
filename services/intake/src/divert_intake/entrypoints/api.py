"""Intake's REST API: police RMS submit referrals, withdraw them and read their status; program
managers extend deadlines and read the audit trail; anyone reads the jurisdictions' published
rules. Who may call what is docs/access.md (`callers.py`)."""

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from divert_intake.adapters.referral_views import find_jurisdiction
from divert_intake.bootstrap import Intake, bootstrap
from divert_intake.domain.referral import Referral
from divert_intake.entrypoints import jurisdictions, referrals
from divert_intake.entrypoints.problems import PROBLEMS
from divert_platform.app import create_app
from divert_platform.audit import audit_router


async def _referral_streams(session: AsyncSession, referral_id: str) -> list[str]:
    return [f"{Referral.stream_prefix}-{referral_id}"]


AUDIT = audit_router(jurisdiction_of=find_jurisdiction, streams_of=_referral_streams)


def build_api(intake: Intake) -> FastAPI:
    """The intake API over already-built parts (tests pass their own)."""
    return create_app(
        title="Divert intake",
        description="Referrals from police records-management systems, decided by each jurisdiction's rules. "
        "Police views show status only, never case content.",
        parts=intake,
        routers=[referrals.router, jurisdictions.router, AUDIT],
        problems=PROBLEMS,
        extra_checks={"temporal": intake.temporal.check},
    )


def create_api() -> FastAPI:
    """The API of this process, from the environment (used by `divert-intake api`)."""
    return build_api(bootstrap())
