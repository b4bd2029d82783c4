"""Activities of the deadline workflow: record the lapse in intake, ask warrants to act."""

from collections.abc import Callable
from uuid import UUID

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from divert_contracts.warrant_requests import WarrantRequestBody, WarrantRequestReceipt
from divert_intake.deadline.models import LapseNotice
from divert_intake.domain.commands import RecordLapse
from divert_intake.service_layer import handlers
from divert_intake.service_layer.unit_of_work import IntakeUnitOfWork
from divert_platform.cause import Cause

WORKFLOW = Cause(actor="referral-deadline-workflow", role="service")
"""Who a lapse is attributed to in intake's event store."""

# 409: a concurrent request for the same referral is still being written; 429: slow down.
# 401/403: our credentials are deployment configuration (a rotated key, a missing service token):
# once it is fixed the same request succeeds, while giving up would lose the warrant request.
_RETRYABLE_CLIENT_ERRORS = {401, 403, 409, 429}


class DeadlineActivities:
    """The deadline workflow's activities and the adapters they use: intake's units of work, an
    HTTP client whose base URL is the warrants service, and the source of the service token
    warrants requires (asked on every call, so a long-running worker never sends an expired one)."""

    def __init__(
        self,
        unit_of_work: Callable[[], IntakeUnitOfWork],
        warrants: httpx.AsyncClient,
        *,
        token: Callable[[], str],
    ) -> None:
        self._unit_of_work = unit_of_work
        self._warrants = warrants
        self._token = token

    @activity.defn
    async def record_lapse(self, notice: LapseNotice) -> None:
        """Record `referral.assessment_deadline_lapsed` in intake, in a unit of work this activity
        commits (idempotent: a referral lapses once, however often the activity runs)."""
        uow = self._unit_of_work()
        uow.cause = WORKFLOW
        async with uow:
            await handlers.record_lapse(RecordLapse(UUID(notice.referral_id), notice.lapsed_at), uow)
            await uow.commit()

    async def warrant_still_due(self, referral_id: str) -> bool:
        """Whether intake still wants the lapse to reach warrants (not once it knows the referral
        was withdrawn or assessed on time)."""
        async with self._unit_of_work() as uow:
            return await handlers.warrant_still_due(UUID(referral_id), uow)

    @activity.defn
    async def request_warrant(self, notice: LapseNotice) -> str | None:
        """Ask warrants to record the lapse; idempotent per referral, so retries create nothing new.

        Nothing is asked (None) when intake already knows the referral was withdrawn or assessed
        on time: the workflow's window closed before that news reached it, and a request made now
        would be wrongful, if only until warrants rescinds it.

        Retries: a 401, 403, 409 or 429 answer, a 5xx answer or a network error fails this attempt
        and the workflow's retry policy tries again (with backoff, without a cap on attempts: a
        credential fixed or warrants back up, the same request succeeds). Any other 4xx means the
        request itself is wrong: it fails non-retryable, so the workflow fails visibly rather than
        retrying forever.
        """
        if not await self.warrant_still_due(notice.referral_id):
            activity.logger.info("no warrant request: the referral was settled before its lapse")
            return None
        body = WarrantRequestBody(
            referral_id=UUID(notice.referral_id),
            jurisdiction=notice.jurisdiction,
            kind=notice.lapse_action,
            assessment_due_by=notice.assessment_due_by,
            lapsed_at=notice.lapsed_at,
        )
        response = await self._warrants.post(
            "/v1/warrant-requests",
            json=body.model_dump(mode="json"),
            headers={
                "Authorization": f"Bearer {self._token()}",
                "Idempotency-Key": f"deadline-lapse-{notice.referral_id}",
            },
        )
        if response.status_code in (200, 201):
            return str(WarrantRequestReceipt.model_validate_json(response.content).warrant_request_id)
        if 400 <= response.status_code < 500 and response.status_code not in _RETRYABLE_CLIENT_ERRORS:
            raise ApplicationError(f"warrants refused the request: HTTP {response.status_code}", non_retryable=True)
        raise RuntimeError(f"warrants answered HTTP {response.status_code}; will retry")
