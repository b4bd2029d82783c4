"""Warrants decides from its own record of the referral, never from the lapse notice's body.

The record is built by the consumer's handlers from intake's events (driven directly here, each in
its own committed transaction, over a real database); the notice is posted with the deadline
worker's token. A body that contradicts the record is a 422 naming the field; a notice that
overtakes intake's events is a retryable 409 `lapse-not-recorded`; the request is made of the
record's values, and rescission compares against the record's due time in force."""

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from divert_platform.problems import PROBLEM_JSON
from divert_platform.schema import events, idempotency_keys, outbox
from divert_warrants.adapters.tables import warrant_requests
from divert_warrants.entrypoints.problems import RETRY_AFTER_SECONDS

Headers = dict[str, str]
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)
LAPSE_NOT_RECORDED = "https://divert.example/problems/lapse-not-recorded"


async def notify(client: httpx.AsyncClient, body: dict[str, Any], worker: Headers) -> httpx.Response:
    """Post a lapse notice as intake's deadline worker does (its token, a key per referral)."""
    headers = {**worker, "Idempotency-Key": f"deadline-lapse-{body['referral_id']}"}
    return await client.post("/v1/warrant-requests", json=body, headers=headers)


async def nothing_recorded(rows) -> bool:
    return all([await rows(table) == [] for table in (warrant_requests, outbox, events, idempotency_keys)])


def iso(moment: datetime) -> str:
    return moment.isoformat()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"assessment_due_by": "2025-03-08T07:59:59+00:00"}, "body.assessment_due_by"),  # a day early: forged
        (
            {"assessment_due_by": "2025-03-10T07:59:59+00:00", "lapsed_at": "2025-03-10T08:00:01+00:00"},
            "body.assessment_due_by",
        ),
        ({"jurisdiction": "santa-fe"}, "body.jurisdiction"),
        ({"kind": "return_for_charging"}, "body.kind"),
    ],
)
async def test_a_body_contradicting_the_record_is_a_422_naming_the_field_and_records_nothing(
    client, make_lapse, hear_lapse, rows, deadline_worker, changes: dict[str, Any], field: str
) -> None:
    body = make_lapse()
    await hear_lapse(body)  # intake accepted the referral and recorded its lapse, as in `body`
    forged = {**body, **changes}

    refused = await notify(client, forged, deadline_worker)

    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == PROBLEM_JSON
    assert [error["field"] for error in refused.json()["errors"]] == [field]
    assert await nothing_recorded(rows)
    assert (await notify(client, body, deadline_worker)).status_code == 201  # the truthful notice stands


async def test_a_referral_without_a_deadline_never_gets_a_request(
    client, make_lapse, make_referral_accepted, deliver, rows, deadline_worker
) -> None:
    body = make_lapse()
    social = make_referral_accepted(body, pathway="social_contact", assessment_due_by=None, lapse_action=None)
    await deliver(social, "/divert/intake")

    refused = await notify(client, body, deadline_worker)

    assert refused.status_code == 422, refused.text
    assert [error["field"] for error in refused.json()["errors"]] == ["body.kind"]
    assert "no assessment deadline" in refused.json()["detail"]
    assert await nothing_recorded(rows)


async def test_a_notice_before_the_lapse_event_is_retryable_and_the_same_call_then_succeeds(
    client, make_lapse, make_referral_accepted, make_deadline_lapsed, deliver, rows, deadline_worker
) -> None:
    body = make_lapse()

    unknown = await notify(client, body, deadline_worker)  # not even the acceptance has arrived
    await deliver(make_referral_accepted(body), "/divert/intake")
    unlapsed = await notify(client, body, deadline_worker)  # accepted, but no lapse recorded yet

    for early, missing in ((unknown, "referral"), (unlapsed, "lapse")):
        assert early.status_code == 409, early.text
        assert early.headers["content-type"] == PROBLEM_JSON
        assert early.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        problem = early.json()
        assert (problem["type"], problem["status"], problem["missing"]) == (LAPSE_NOT_RECORDED, 409, missing)
    assert await nothing_recorded(rows)

    lapsed = await deliver(make_deadline_lapsed(body), "/divert/intake")
    created = await notify(client, body, deadline_worker)  # the same call, the same key

    assert created.status_code == 201, created.text
    assert created.json()["status"] == "requested"
    [stored] = await rows(events)
    assert stored["metadata"]["causation_id"] == lapsed.id


async def test_the_request_is_made_of_the_records_values(
    client, make_lapse, hear_lapse, rows, due, deadline_worker
) -> None:
    body = make_lapse()
    await hear_lapse(body)
    later_notice = {**body, "lapsed_at": iso(due + 90 * SECOND)}  # the worker's own clock, a retry later

    created = await notify(client, later_notice, deadline_worker)

    assert created.status_code == 201, created.text
    view = created.json()
    assert (view["jurisdiction"], view["kind"]) == ("king-county", "warrant_request")
    assert datetime.fromisoformat(view["assessment_due_by"]) == due
    assert datetime.fromisoformat(view["lapsed_at"]) == due + 2 * SECOND  # intake's recorded lapse
    [published] = await rows(outbox)
    assert published["data"]["lapsed_at"].startswith("2025-03-09T08:00:01")


async def test_an_on_time_assessment_after_an_extension_rescinds_and_an_early_due_time_is_refused(
    client,
    make_lapse,
    make_referral_accepted,
    make_deadline_extended,
    make_deadline_lapsed,
    make_case_assessed,
    deliver,
    rows,
    due,
    deadline_worker,
    prosecutor,
) -> None:
    extended_due = due + 2 * DAY
    body = make_lapse(assessment_due_by=iso(extended_due), lapsed_at=iso(extended_due + 2 * SECOND))
    await deliver(make_referral_accepted(body, assessment_due_by=due), "/divert/intake")
    await deliver(make_deadline_extended(body["referral_id"], due, extended_due), "/divert/intake")
    await deliver(make_deadline_lapsed(body), "/divert/intake")

    # The finding: a notice claiming the original, earlier due time is refused, nothing stored.
    forged = await notify(client, {**body, "assessment_due_by": iso(due)}, deadline_worker)
    assert forged.status_code == 422, forged.text
    assert [error["field"] for error in forged.json()["errors"]] == ["body.assessment_due_by"]
    assert await rows(warrant_requests) == []

    request = (await notify(client, body, deadline_worker)).json()
    assert datetime.fromisoformat(request["assessment_due_by"]) == extended_due
    # Completed a day after the original due time, a day before the extended one: on time.
    await deliver(make_case_assessed(body["referral_id"], due + DAY))

    view = (await client.get(f"/v1/warrant-requests/{request['warrant_request_id']}", headers=prosecutor)).json()
    assert (view["status"], view["rescission_reason"]) == ("rescinded", "assessed_before_deadline")


async def test_an_assessment_after_the_extended_due_time_leaves_the_request_standing(
    client,
    make_lapse,
    make_referral_accepted,
    make_deadline_extended,
    make_deadline_lapsed,
    make_case_assessed,
    deliver,
    rows,
    due,
    deadline_worker,
    prosecutor,
) -> None:
    extended_due = due + 2 * DAY
    body = make_lapse(assessment_due_by=iso(extended_due), lapsed_at=iso(extended_due + 2 * SECOND))
    await deliver(make_referral_accepted(body, assessment_due_by=due), "/divert/intake")
    await deliver(make_deadline_extended(body["referral_id"], due, extended_due), "/divert/intake")
    await deliver(make_deadline_lapsed(body), "/divert/intake")
    request = (await notify(client, body, deadline_worker)).json()

    await deliver(make_case_assessed(body["referral_id"], extended_due + SECOND))

    view = (await client.get(f"/v1/warrant-requests/{request['warrant_request_id']}", headers=prosecutor)).json()
    assert (view["status"], view["rescinded_at"]) == ("requested", None)


async def test_a_lapse_an_extension_moved_past_is_refused_for_good(
    client, make_lapse, hear_lapse, make_deadline_extended, deliver, rows, due, deadline_worker
) -> None:
    body = make_lapse()
    await hear_lapse(body)
    await deliver(make_deadline_extended(body["referral_id"], due, due + DAY), "/divert/intake")

    stale = await notify(client, body, deadline_worker)  # claims the due time the lapse was recorded at
    in_force = {"assessment_due_by": iso(due + DAY), "lapsed_at": iso(due + DAY + SECOND)}
    superseded = await notify(client, {**body, **in_force}, deadline_worker)

    assert stale.status_code == 422
    assert [error["field"] for error in stale.json()["errors"]] == ["body.assessment_due_by"]
    assert superseded.status_code == 409, superseded.text
    assert superseded.json()["type"] == "https://divert.example/problems/lapse-superseded"
    assert "Retry-After" not in superseded.headers
    assert await nothing_recorded(rows)
