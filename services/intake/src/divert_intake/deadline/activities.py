"""Activities of the deadline workflow: ask warrants to act, record the lapse in intake."""

from collections.abc import Awaitable, Callable

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from divert_intake.deadline.models import LapseNotice

# 409: a concurrent request for the same referral is still being written; 429: slow down.
# 401/403: our credentials are deployment configuration (a rotated key, a missing service token):
# once it is fixed the same request succeeds, while giving up would lose the warrant request.
_RETRYABLE_CLIENT_ERRORS = {401, 403, 409, 429}


class DeadlineActivities:
    """Holds the adapters the activities use (an HTTP client, intake's lapse recorder, and the
    source of the service token warrants requires)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        warrants_url: str,
        record_lapse: Callable[[LapseNotice], Awaitable[None]],
        *,
        token: Callable[[], str],
        warrant_still_due: Callable[[str], Awaitable[bool]] | None = None,
    ) -> None:
        """`token` is asked on every call, so a long-running worker never sends an expired one.
        `warrant_still_due(referral_id)` asks intake whether the referral was withdrawn or assessed
        on time after all (None: always due)."""
        self._http = http
        self._warrants_url = warrants_url.rstrip("/")
        self._record_lapse = record_lapse
        self._token = token
        self._warrant_still_due = warrant_still_due

    @activity.defn
    async def request_warrant(self, notice: LapseNotice) -> str | None:
        """Ask warrants to record the lapse; idempotent per referral, so retries create nothing new.

        Nothing is asked (None) when intake already knows the referral was withdrawn or assessed
        on time: the workflow's window closed before that news reached it, and a request made now
        would be wrongful, if only until warrants rescinds it.

        A 4xx other than the retryable ones means the request itself is wrong: fail visibly rather
        than retry forever. 5xx and network errors are retried by the workflow's policy.
        """
        if self._warrant_still_due is not None and not await self._warrant_still_due(notice.referral_id):
            activity.logger.info("no warrant request: the referral was settled before its lapse")
            return None
        response = await self._http.post(
            f"{self._warrants_url}/v1/warrant-requests",
            json={
                "referral_id": notice.referral_id,
                "jurisdiction": notice.jurisdiction,
                "kind": notice.lapse_action,
                "assessment_due_by": notice.assessment_due_by.isoformat(),
                "lapsed_at": notice.lapsed_at.isoformat(),
            },
            headers={
                "Authorization": f"Bearer {self._token()}",
                "Idempotency-Key": f"deadline-lapse-{notice.referral_id}",
            },
        )
        if response.status_code in (200, 201):
            return str(response.json()["warrant_request_id"])
        if 400 <= response.status_code < 500 and response.status_code not in _RETRYABLE_CLIENT_ERRORS:
            raise ApplicationError(f"warrants refused the request: HTTP {response.status_code}", non_retryable=True)
        raise RuntimeError(f"warrants answered HTTP {response.status_code}; will retry")

    @activity.defn
    async def record_lapse(self, notice: LapseNotice) -> None:
        """Record `referral.assessment_deadline_lapsed` in intake (idempotent)."""
        await self._record_lapse(notice)
