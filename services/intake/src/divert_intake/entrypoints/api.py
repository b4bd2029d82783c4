"""Intake's REST API: police RMS submit referrals, withdraw them and read their status; program
managers extend deadlines and read the audit trail; anyone reads the jurisdictions' published
rules. Who may call what is docs/access.md (`callers.py`)."""

from fastapi import FastAPI

from divert_intake.adapters.referral_views import find_jurisdiction
from divert_intake.bootstrap import Intake, bootstrap
from divert_intake.domain.referral import Referral
from divert_intake.entrypoints import jurisdictions, referrals
from divert_intake.entrypoints.problems import PROBLEMS
from divert_platform.app import create_app
from divert_platform.audit import audit_router


def build_api(intake: Intake) -> FastAPI:
    """The intake API over already-built parts (tests pass their own)."""

    async def jurisdiction_of(referral_id: str) -> str | None:
        async with intake.sessions() as session:
            return await find_jurisdiction(session, referral_id)

    audit = audit_router(
        intake.audit,
        jurisdiction_of=jurisdiction_of,
        streams_of=lambda referral_id: [f"{Referral.stream_prefix}-{referral_id}"],
    )
    return create_app(
        title="Divert intake",
        description="Referrals from police records-management systems, decided by each jurisdiction's rules. "
        "Police views show status only, never case content.",
        settings=intake.settings,
        engine=intake.engine,
        routers=[referrals.router, jurisdictions.router, audit],
        problems=PROBLEMS,
        state={"intake": intake},
        extra_checks={"temporal": intake.temporal.check},
    )


def create_api() -> FastAPI:
    """The API of this process, from the environment (used by `divert-intake api`)."""
    return build_api(bootstrap())
