"""The deadline activities: how the lapse reaches intake's store and warrants (a fake HTTP transport
stands in for warrants, the fake unit of work for intake's database)."""

import json
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import httpx
import pytest
from temporalio.exceptions import ApplicationError

from divert_contracts.referrals import Location, RmsReference, Subject
from divert_intake.deadline.activities import WORKFLOW, DeadlineActivities
from divert_intake.deadline.models import LapseNotice
from divert_intake.domain.commands import SubmitReferral
from divert_intake.domain.facts import Offense, Screening
from divert_intake.domain.policy import load_policy_book
from divert_intake.domain.referral import Referral, ReferralStatus

DEMO = load_policy_book().get("demo")
assert DEMO is not None
REFERRED = datetime(2026, 12, 30, 8, tzinfo=UTC)
DUE = REFERRED + DEMO.assessment_window
REQUEST_ID = "5b2c1d0e-9f8a-4b7c-8d6e-5f4a3b2c1d0e"


@pytest.fixture
def notice(uow) -> LapseNotice:
    """The lapse of a demo arrest diversion stored in the fake unit of work."""
    referral = uow.referrals.add(
        Referral.submit(
            SubmitReferral(
                referral_id=uuid4(),
                jurisdiction="demo",
                pathway="arrest_diversion",
                referred_at=REFERRED,
                rms=RmsReference(agency="PD", case_number="1", officer_id="9"),
                subject=Subject(given_name="Sam", family_name="Lee"),
                location=Location(),
                offense=Offense(category="drug_possession", drug_quantity_grams=1),
                screening=Screening(
                    amenable=True,
                    dealing_for_profit=False,
                    exploits_minors=False,
                    promotes_prostitution=False,
                    on_state_probation=False,
                    in_treatment_court=False,
                    no_contact_order_with_participant=False,
                ),
                contact_drivers=("drug_use",),
                at=REFERRED,
            ),
            DEMO,
        )
    )
    return LapseNotice(
        referral_id=str(referral.id),
        jurisdiction="demo",
        assessment_due_by=DUE,
        lapse_action="warrant_request",
        lapsed_at=DUE + timedelta(seconds=1),
    )


async def _request(uow, notice: LapseNotice, status: int, body: dict[str, str] | None = None):
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=body or {})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://warrants") as http:
        tokens = iter(["first-token", "second-token"])
        activities = DeadlineActivities(lambda: uow, http, token=lambda: next(tokens))
        result = await activities.request_warrant(notice)
    return result, seen[0]


@pytest.mark.parametrize("status", [200, 201])
async def test_a_created_or_existing_request_returns_its_id_and_sends_the_referral_key(
    uow, notice, status: int
) -> None:
    result, request = await _request(uow, notice, status, {"warrant_request_id": REQUEST_ID, "status": "requested"})
    assert result == REQUEST_ID
    assert request.headers["Idempotency-Key"] == f"deadline-lapse-{notice.referral_id}"
    assert request.headers["Authorization"] == "Bearer first-token"
    assert request.url.path == "/v1/warrant-requests"
    assert json.loads(request.content) == {  # the shared contract's body, times in UTC
        "referral_id": notice.referral_id,
        "jurisdiction": "demo",
        "kind": "warrant_request",
        "assessment_due_by": DUE.isoformat().replace("+00:00", "Z"),
        "lapsed_at": notice.lapsed_at.isoformat().replace("+00:00", "Z"),
    }


async def test_every_call_sends_the_service_token_it_is_given_at_that_moment(uow, notice) -> None:
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers["Authorization"])
        return httpx.Response(201, json={"warrant_request_id": REQUEST_ID, "status": "requested"})

    tokens = iter(["minted-first", "minted-later"])  # e.g. a fresh token once the first expired
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://warrants") as http:
        activities = DeadlineActivities(lambda: uow, http, token=lambda: next(tokens))
        await activities.request_warrant(notice)
        await activities.request_warrant(notice)
    assert sent == ["Bearer minted-first", "Bearer minted-later"]


@pytest.mark.parametrize("status", [401, 403, 409, 429, 500, 503])
async def test_credentials_conflicts_throttling_and_server_errors_are_retried(uow, notice, status: int) -> None:
    # A refused token is a deployment fault, fixed without changing the request: keep retrying.
    with pytest.raises(RuntimeError, match="will retry"):
        await _request(uow, notice, status)


@pytest.mark.parametrize("status", [400, 404, 408, 422])
async def test_other_client_errors_fail_visibly_without_retry(uow, notice, status: int) -> None:
    with pytest.raises(ApplicationError) as error:
        await _request(uow, notice, status)
    assert error.value.non_retryable


async def test_no_request_is_sent_when_intake_knows_the_referral_was_settled_before_its_lapse(uow, notice) -> None:
    referral = await uow.referrals.get(UUID(notice.referral_id))
    referral.withdraw("wrong person", DUE - timedelta(seconds=1))
    await uow.referrals.save(referral)
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(201)

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://warrants") as http:
        activities = DeadlineActivities(lambda: uow, http, token=lambda: "token")
        assert await activities.warrant_still_due(notice.referral_id) is False
        assert await activities.request_warrant(notice) is None
    assert sent == []


async def test_recording_the_lapse_commits_its_own_unit_of_work_attributed_to_the_workflow(uow, notice) -> None:
    async with httpx.AsyncClient(base_url="http://warrants") as http:
        activities = DeadlineActivities(lambda: uow, http, token=lambda: "token")
        await activities.record_lapse(notice)
        await activities.record_lapse(notice)  # a retried activity records nothing more
    referral = await uow.referrals.get(UUID(notice.referral_id))
    assert referral.status is ReferralStatus.LAPSED
    assert uow.commits == 2 and [type(event).__name__ for event in uow.published] == [
        "ReferralAssessmentDeadlineLapsed"
    ]
    assert uow.metadata == [WORKFLOW.metadata()]
