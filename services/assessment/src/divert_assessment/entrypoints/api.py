"""Assessment's REST API: case-agency staff read cases and move them through their lifecycle.

Who may call which route is docs/access.md (`callers.py`): case managers see and change only the
cases of their own agency (any other case answers 404, as if it did not exist); program managers
get reports and audit trails of their own jurisdiction. Each read of a case by a person is audited.
"""

from uuid import UUID

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from divert_assessment.adapters.case_queries import jurisdiction_of
from divert_assessment.bootstrap import Assessment, bootstrap
from divert_assessment.domain.case import Case
from divert_assessment.entrypoints import cases, disclosures, evaluation, lifecycle, organisations, reports
from divert_assessment.entrypoints.problems import PROBLEMS
from divert_platform.app import create_app
from divert_platform.audit import audit_router


async def _case_streams(session: AsyncSession, referral_id: str) -> list[str]:
    # called only for an id `jurisdiction_of` found, so a case's own (valid) referral id
    return [Case.stream_id(UUID(referral_id))]


AUDIT = audit_router(jurisdiction_of=jurisdiction_of, streams_of=_case_streams)
"""`GET /v1/audit`: reads and writes of a case, for program managers of its jurisdiction."""


def build_api(assessment: Assessment) -> FastAPI:
    """The assessment API over already-built parts (tests pass their own)."""
    return create_app(
        title="Divert assessment",
        description=(
            "Cases opened for accepted referrals: contacts, consents, the intake assessment, enrollment "
            "or decline, engagement, closure and reopening; disclosures under consent to registered organisations; "
            "program reports; the de-identified evaluation extract and its outcome measures."
        ),
        parts=assessment,
        routers=[
            cases.router,
            lifecycle.router,
            disclosures.router,
            organisations.router,
            reports.router,
            evaluation.router,
            AUDIT,
        ],
        problems=PROBLEMS,
    )


def create_api() -> FastAPI:
    """The API of this process, from the environment (used by `divert-assessment api`)."""
    return build_api(bootstrap())
