"""Assessment's REST API: case-agency staff read cases and move them through their lifecycle.

Who may call which route is docs/access.md (`callers.py`): case managers see and change only the
cases of their own agency (any other case answers 404, as if it did not exist); program managers
get reports and audit trails of their own jurisdiction. Each read of a case by a person is audited.
"""

from collections.abc import Sequence
from functools import partial
from uuid import UUID

from fastapi import APIRouter, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from divert_assessment.adapters.case_queries import jurisdiction_of
from divert_assessment.bootstrap import Assessment, bootstrap
from divert_assessment.domain.case import Case
from divert_assessment.entrypoints import cases, disclosures, lifecycle, reports
from divert_assessment.entrypoints.problems import PROBLEMS
from divert_platform.app import create_app
from divert_platform.audit import audit_router


def build_api(assessment: Assessment) -> FastAPI:
    """The assessment API over already-built parts (tests pass their own)."""
    return create_app(
        title="Divert assessment",
        description=(
            "Cases opened for accepted referrals: contacts, consents, the intake assessment, enrollment "
            "or decline, engagement, closure and reopening; disclosures under consent; program reports."
        ),
        settings=assessment.settings,
        engine=assessment.engine,
        routers=[cases.router, lifecycle.router, disclosures.router, reports.router, _audit(assessment)],
        problems=PROBLEMS,
        state={"assessment": assessment},
    )


def create_api() -> FastAPI:
    """The API of this process, from the environment (used by `divert-assessment api`)."""
    return build_api(bootstrap())


def _audit(assessment: Assessment) -> APIRouter:
    """`GET /v1/audit`: reads and writes of a case, for program managers of its jurisdiction."""
    return audit_router(
        assessment.audit_trail(),
        jurisdiction_of=partial(_case_jurisdiction, assessment.sessions),
        streams_of=_case_streams,
    )


async def _case_jurisdiction(sessions: async_sessionmaker[AsyncSession], referral_id: str) -> str | None:
    async with sessions() as session:
        return await jurisdiction_of(session, referral_id)


def _case_streams(referral_id: str) -> Sequence[str]:
    # called only for an id `_case_jurisdiction` found, so a case's own (valid) referral id
    return [Case.stream_id(UUID(referral_id))]
