"""Intake's REST API: police RMS submit referrals, withdraw them and read their status; program
managers extend deadlines and read the audit trail; prosecutors and program managers decide the
referrals a policy's approval gate holds (`approvals.py`); agencies' integration administrators and
prosecutors register the endpoints status changes are called back at (`callbacks.py`); anyone
reads the jurisdictions' published rules; program managers read their jurisdiction's referral funnel
and the assessments due soon (`reports.py`). Who may call what is docs/access.md (`callers.py`)."""

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from divert_intake.adapters.referral_views import find_jurisdiction
from divert_intake.bootstrap import Intake, bootstrap
from divert_intake.domain.referral import Referral
from divert_intake.entrypoints import approvals, callbacks, jurisdictions, referrals, reports
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
        routers=[referrals.router, approvals.router, callbacks.router, jurisdictions.router, reports.router, AUDIT],
        problems=PROBLEMS,
        extra_checks={"temporal": intake.temporal.check},
    )


def create_api() -> FastAPI:
    """The API of this process, from the environment (used by `divert-intake api`). It refuses
    to start without the keys that seal the callback endpoints' secrets (outside development),
    rather than fail the first registration."""
    intake = bootstrap()
    intake.settings.callback_box  # noqa: B018 - raises when the keys are missing
    return build_api(intake)
