"""How the lapse activity reads the warrants API's answers (a fake HTTP transport stands in)."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from temporalio.exceptions import ApplicationError

from divert_intake.deadline.activities import DeadlineActivities
from divert_intake.deadline.models import LapseNotice

DUE = datetime(2026, 12, 30, 8, tzinfo=UTC)
NOTICE = LapseNotice(
    referral_id="5f0c8a4e-2b1d-4c7e-9a3f-1e2d3c4b5a69",
    jurisdiction="king-county",
    assessment_due_by=DUE,
    lapse_action="warrant_request",
    lapsed_at=DUE + timedelta(seconds=1),
)


async def _request(status: int, body: dict[str, str] | None = None) -> tuple[str, httpx.Request]:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=body or {})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:

        async def record(_: LapseNotice) -> None:
            return None

        tokens = iter(["first-token", "second-token"])
        activities = DeadlineActivities(http, "http://warrants", record, token=lambda: next(tokens))
        result = await activities.request_warrant(NOTICE)
    return result, seen[0]


@pytest.mark.parametrize("status", [200, 201])
async def test_a_created_or_existing_request_returns_its_id_and_sends_the_referral_key(status: int) -> None:
    result, request = await _request(status, {"warrant_request_id": "wr-1"})
    assert result == "wr-1"
    assert request.headers["Idempotency-Key"] == f"deadline-lapse-{NOTICE.referral_id}"
    assert request.headers["Authorization"] == "Bearer first-token"
    assert request.url.path == "/v1/warrant-requests"


async def test_every_call_sends_the_service_token_it_is_given_at_that_moment() -> None:
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers["Authorization"])
        return httpx.Response(201, json={"warrant_request_id": "wr-1"})

    async def record(_: LapseNotice) -> None:
        return None

    tokens = iter(["minted-first", "minted-later"])  # e.g. a fresh token once the first expired
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        activities = DeadlineActivities(http, "http://warrants", record, token=lambda: next(tokens))
        await activities.request_warrant(NOTICE)
        await activities.request_warrant(NOTICE)
    assert sent == ["Bearer minted-first", "Bearer minted-later"]


@pytest.mark.parametrize("status", [401, 403, 409, 429, 500, 503])
async def test_credentials_conflicts_throttling_and_server_errors_are_retried(status: int) -> None:
    # A refused token is a deployment fault, fixed without changing the request: keep retrying.
    with pytest.raises(RuntimeError, match="will retry"):
        await _request(status)


@pytest.mark.parametrize("status", [400, 404, 408, 422])
async def test_other_client_errors_fail_visibly_without_retry(status: int) -> None:
    with pytest.raises(ApplicationError) as error:
        await _request(status)
    assert error.value.non_retryable


async def test_no_request_is_sent_when_intake_knows_the_referral_was_settled_before_its_lapse() -> None:
    sent: list[httpx.Request] = []
    asked: list[str] = []

    async def record(_: LapseNotice) -> None:
        return None

    async def still_due(referral_id: str) -> bool:
        asked.append(referral_id)
        return False

    transport = httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(201))  # type: ignore[func-returns-value]
    async with httpx.AsyncClient(transport=transport) as http:
        activities = DeadlineActivities(
            http, "http://warrants", record, token=lambda: "token", warrant_still_due=still_due
        )
        assert await activities.request_warrant(NOTICE) is None
    assert (asked, sent) == ([NOTICE.referral_id], [])
