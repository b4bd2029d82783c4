"""The deadline activities: how the lapse reaches intake's store and warrants (a fake HTTP transport
stands in for warrants, the fake unit of work for intake's database, a fixed time for the worker's
clock). The workflow's notice is a claim: intake's record decides what is recorded and sent."""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import httpx
import pytest
from temporalio.exceptions import ApplicationError

from divert_contracts.referrals import Location, RmsReference, Subject
from divert_intake.deadline.activities import LAPSE_REFUSED, MAX_CLOCK_SKEW, WORKFLOW, DeadlineActivities
from divert_intake.deadline.models import LapseNotice
from divert_intake.domain.commands import SubmitReferral
from divert_intake.domain.facts import Offense, Screening
from divert_intake.domain.policy import load_policy_book
from divert_intake.domain.referral import Referral, ReferralStatus
from divert_platform.testing import metric_value

DEMO = load_policy_book().get("demo")
assert DEMO is not None
REFERRED = datetime(2026, 12, 30, 8, tzinfo=UTC)
DUE = REFERRED + DEMO.assessment_window
REQUEST_ID = "5b2c1d0e-9f8a-4b7c-8d6e-5f4a3b2c1d0e"
SEEN = DUE + timedelta(seconds=2)
"""The worker's clock when the activity runs: two seconds after the due time."""
CREATED = {"warrant_request_id": REQUEST_ID, "status": "requested"}
PROBLEMS = "https://divert.example/problems/"


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


class Warrants:
    """The warrants API as a fake transport: answers every call with `status` and `body`."""

    def __init__(self, status: int = 201, body: dict[str, object] | None = None, headers: dict[str, str] | None = None):
        self.status, self.body, self.headers = status, CREATED if body is None else body, headers or {}
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return httpx.Response(self.status, json=self.body, headers=self.headers)


async def _run(uow, warrants: Warrants, call: Callable[[DeadlineActivities], object], now: datetime = SEEN):
    async with httpx.AsyncClient(transport=httpx.MockTransport(warrants), base_url="http://warrants") as http:
        tokens = iter(["first-token", "second-token"])
        activities = DeadlineActivities(lambda: uow, http, token=lambda: next(tokens), now=lambda: now)
        return await call(activities)


async def _request(uow, notice: LapseNotice, status: int, body: dict[str, object] | None = None, **headers: str):
    warrants = Warrants(status, body, headers)
    result = await _run(uow, warrants, lambda activities: activities.request_warrant(notice))
    return result, warrants.seen[0]


async def _refusal(uow, notice: LapseNotice, activity: str, now: datetime = SEEN) -> ApplicationError:
    warrants = Warrants()
    with pytest.raises(ApplicationError) as error:
        await _run(uow, warrants, lambda activities: getattr(activities, activity)(notice), now)
    assert warrants.seen == []  # nothing reaches warrants
    return error.value


@pytest.mark.parametrize("status", [200, 201])
async def test_a_created_or_existing_request_returns_its_id_and_sends_the_referral_key(
    uow, notice, status: int
) -> None:
    result, request = await _request(uow, notice, status)
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


async def test_the_request_says_what_intake_recorded_not_what_the_workflow_claims(uow, notice) -> None:
    claims = notice.model_copy(
        update={
            "jurisdiction": "king-county",
            "lapse_action": "return_for_charging",
            "lapsed_at": DUE + timedelta(days=9),
        }
    )
    _, request = await _request(uow, claims, 201)
    sent = json.loads(request.content)
    assert (sent["jurisdiction"], sent["kind"]) == ("demo", "warrant_request")
    # The reported lapse time is kept within [due time, the worker's clock]: the worker saw it at SEEN.
    assert sent["lapsed_at"] == SEEN.isoformat().replace("+00:00", "Z")
    referral = await uow.referrals.get(UUID(notice.referral_id))
    assert referral.lapsed_at == SEEN


async def test_every_call_sends_the_service_token_it_is_given_at_that_moment(uow, notice) -> None:
    warrants = Warrants()

    async def twice(activities: DeadlineActivities) -> None:
        await activities.request_warrant(notice)
        await activities.request_warrant(notice)

    await _run(uow, warrants, twice)  # e.g. a fresh token once the first expired
    assert [r.headers["Authorization"] for r in warrants.seen] == ["Bearer first-token", "Bearer second-token"]


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, {}),
        (403, {}),
        (429, {}),
        (500, {}),
        (503, {}),
        (409, {"type": PROBLEMS + "conflict", "detail": "concurrent requests for this referral collided; retry"}),
        (409, {"type": PROBLEMS + "lapse-not-recorded", "detail": "no lapse recorded for this referral yet"}),
        (409, {"type": PROBLEMS + "concurrent-request", "detail": "collided; retry"}),
        (409, {}),
    ],
)
async def test_credentials_throttling_server_errors_and_passing_conflicts_are_retried(
    uow, notice, status: int, body: dict[str, str]
) -> None:
    # A refused token is a deployment fault, fixed without changing the request: keep retrying.
    with pytest.raises(ApplicationError, match="will retry") as error:
        await _request(uow, notice, status, body)
    assert not error.value.non_retryable and error.value.next_retry_delay is None


@pytest.mark.parametrize(("retry_after", "delay"), [("7", 7), ("0", 1), ("86400", 300)])
async def test_warrants_retry_after_sets_the_next_attempt_within_bounds(uow, notice, retry_after, delay) -> None:
    not_recorded = {"type": PROBLEMS + "lapse-not-recorded", "detail": "no lapse recorded yet"}
    with pytest.raises(ApplicationError) as error:
        await _request(uow, notice, 409, not_recorded, **{"Retry-After": retry_after})
    assert not error.value.non_retryable and error.value.next_retry_delay == timedelta(seconds=delay)


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (400, {}, "WarrantsRefused"),
        (404, {}, "WarrantsRefused"),
        (422, {"type": PROBLEMS + "validation", "detail": "assessment_due_by differs"}, "WarrantsRefusedFacts"),
        (409, {"type": PROBLEMS + "conflict", "field": "Idempotency-Key"}, "IdempotencyKeyReused"),
        (409, {"type": PROBLEMS + "idempotency-key-reused"}, "IdempotencyKeyReused"),
        (409, {"type": PROBLEMS + "lapse-superseded"}, "LapseSuperseded"),
        (409, {"type": PROBLEMS + "something-else"}, "WarrantsRefused"),
    ],
)
async def test_a_request_warrants_can_never_accept_fails_visibly_without_retry(
    uow, notice, status: int, body: dict[str, str], kind: str
) -> None:
    with pytest.raises(ApplicationError) as error:
        await _request(uow, notice, status, body)
    assert error.value.non_retryable and error.value.type == kind


async def test_no_request_is_sent_when_intake_knows_the_referral_was_settled_after_its_lapse(uow, notice) -> None:
    await _run(uow, Warrants(), lambda activities: activities.record_lapse(notice))
    referral = await uow.referrals.get(UUID(notice.referral_id))
    referral.withdraw("wrong person", SEEN)
    await uow.referrals.save(referral)
    warrants = Warrants()
    assert await _run(uow, warrants, lambda activities: activities.request_warrant(notice)) is None
    assert await _run(uow, warrants, lambda activities: activities.warrant_still_due(notice.referral_id)) is False
    assert warrants.seen == []


async def test_recording_the_lapse_commits_its_own_unit_of_work_attributed_to_the_workflow(uow, notice) -> None:
    for _ in range(2):  # a retried activity records nothing more
        await _run(uow, Warrants(), lambda activities: activities.record_lapse(notice))
    referral = await uow.referrals.get(UUID(notice.referral_id))
    assert referral.status is ReferralStatus.LAPSED
    assert uow.commits == 2 and [type(event).__name__ for event in uow.published] == [
        "ReferralAssessmentDeadlineLapsed"
    ]
    assert uow.metadata == [WORKFLOW.metadata()]


async def test_a_workflow_asking_warrants_first_still_records_the_lapse_first(uow, notice) -> None:
    # The first version of the workflow requested the warrant before recording the lapse; such
    # histories still replay, and warrants only takes a request for a lapse intake published.
    result, _ = await _request(uow, notice, 201)
    assert result == REQUEST_ID
    assert [type(event).__name__ for event in uow.published] == ["ReferralAssessmentDeadlineLapsed"]
    await _run(uow, Warrants(), lambda activities: activities.record_lapse(notice))
    assert len(uow.published) == 1


class TestRefusals:
    """Lapses intake's record contradicts: refused without retry, nothing recorded, nothing sent, counted."""

    @pytest.mark.parametrize("activity", ["record_lapse", "request_warrant"])
    async def test_a_due_time_other_than_the_records_is_refused(self, uow, notice, activity, metric_reader) -> None:
        before = metric_value(metric_reader, "divert.deadline.lapse_refusals", reason="due_time_mismatch")
        forged = notice.model_copy(update={"assessment_due_by": DUE - timedelta(days=3)})
        error = await _refusal(uow, forged, activity)
        assert (error.type, error.non_retryable, error.details) == (LAPSE_REFUSED, True, ("due_time_mismatch",))
        assert uow.published == [] and uow.commits == 0
        referral = await uow.referrals.get(UUID(notice.referral_id))
        assert referral.status is ReferralStatus.ACCEPTED
        after = metric_value(metric_reader, "divert.deadline.lapse_refusals", reason="due_time_mismatch")
        assert after == before + 1

    async def test_a_window_still_open_by_the_workers_clock_is_refused(self, uow, notice, metric_reader) -> None:
        before = metric_value(metric_reader, "divert.deadline.lapse_refusals", reason="not_yet_due")
        error = await _refusal(uow, notice, "record_lapse", now=DUE - MAX_CLOCK_SKEW - timedelta(seconds=1))
        assert (error.type, error.non_retryable, error.details) == (LAPSE_REFUSED, True, ("not_yet_due",))
        assert metric_value(metric_reader, "divert.deadline.lapse_refusals", reason="not_yet_due") == before + 1

    async def test_a_due_time_just_ahead_of_the_workers_clock_is_skew_retried_at_the_due_time(
        self, uow, notice, metric_reader
    ) -> None:
        before = metric_value(metric_reader, "divert.deadline.lapse_refusals", reason="not_yet_due")
        error = await _refusal(uow, notice, "record_lapse", now=DUE - timedelta(seconds=4))
        assert (error.type, error.non_retryable, error.next_retry_delay) == (
            "LapseNotYetDue",
            False,
            timedelta(seconds=5),
        )
        assert uow.published == [] and uow.commits == 0
        assert metric_value(metric_reader, "divert.deadline.lapse_refusals", reason="not_yet_due") == before

    @pytest.mark.parametrize("referral_id", [str(uuid4()), "not-a-referral-id"])
    async def test_a_referral_intake_does_not_know_is_refused(self, uow, notice, referral_id) -> None:
        error = await _refusal(uow, notice.model_copy(update={"referral_id": referral_id}), "request_warrant")
        assert (error.type, error.details) == (LAPSE_REFUSED, ("unknown_referral",))

    async def test_a_referral_settled_before_the_lapse_is_refused(self, uow, notice) -> None:
        referral = await uow.referrals.get(UUID(notice.referral_id))
        referral.withdraw("wrong person", DUE - timedelta(seconds=1))
        await uow.referrals.save(referral)
        error = await _refusal(uow, notice, "request_warrant")
        assert (error.type, error.details) == (LAPSE_REFUSED, ("withdrawn",))
        assert [type(event).__name__ for event in uow.published] == []
