"""No wrongful warrant: on-time assessments (judged against warrants' own due time in force) and
withdrawals rescind (or flag) the referral's request, whether they arrive after the lapse notice or
before it. The consumer's handlers are driven directly with decoded events, each in its own
committed transaction, over a real database; every request is raised after warrants heard of the
referral's acceptance and lapse (`make_lapsed`, `hear_lapse`)."""

import asyncio
from datetime import timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import inspect

from divert_platform.schema import events, outbox
from divert_warrants.adapters.tables import referral_facts

Headers = dict[str, str]
SECOND = timedelta(seconds=1)
REQUESTED = "org.divert.warrant.requested.v1"
RESCINDED = "org.divert.warrant.request_rescinded.v1"
ACKNOWLEDGED = "org.divert.warrant.request_acknowledged.v1"
FLAGGED = "org.divert.warrant.request_flagged.v1"


async def raise_request(
    client: httpx.AsyncClient, body: dict[str, Any], worker: Headers, status: int = 201
) -> dict[str, Any]:
    """Raise a request as intake's deadline worker does (its own token, the referral as key)."""
    headers = {**worker, "Idempotency-Key": body["referral_id"]}
    response = await client.post("/v1/warrant-requests", json=body, headers=headers)
    assert response.status_code == status, response.text
    return response.json()


async def published(rows, referral_id: str) -> list[tuple[str, dict[str, Any]]]:
    return [(row["event_type"], row["data"]) for row in await rows(outbox, outbox.c.message_key == referral_id)]


async def stored(rows, request: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    stream = f"warrant-request-{request['warrant_request_id']}"
    return [(e["event_type"], e["metadata"]) for e in await rows(events, events.c.stream_id == stream)]


async def current(client: httpx.AsyncClient, request: dict[str, Any], reader: Headers) -> dict[str, Any]:
    return (await client.get(f"/v1/warrant-requests/{request['warrant_request_id']}", headers=reader)).json()


@pytest.mark.parametrize(("offset", "rescinds"), [(-SECOND, True), (SECOND, False)])
async def test_an_assessment_arriving_after_the_lapse_rescinds_only_if_it_was_on_time(
    client, make_lapsed, make_case_assessed, deliver, rows, due, offset, rescinds, deadline_worker, prosecutor
) -> None:
    request = await raise_request(client, await make_lapsed(), deadline_worker)

    message = await deliver(make_case_assessed(request["referral_id"], due + offset))

    view = await current(client, request, prosecutor)
    if rescinds:
        assert (view["status"], view["rescission_reason"]) == ("rescinded", "assessed_before_deadline")
        assert view["rescinded_at"] is not None
        [_, (rescinded_type, rescinded)] = await published(rows, request["referral_id"])
        assert rescinded_type == RESCINDED
        assert rescinded["reason"] == "assessed_before_deadline"
        assert rescinded["warrant_request_id"] == request["warrant_request_id"]
        assert (await stored(rows, request))[1] == (
            "RequestRescinded",
            {"actor": "/divert/assessment", "role": "service", "causation_id": message.id},
        )
    else:
        assert (view["status"], view["rescission_reason"], view["rescinded_at"]) == ("requested", None, None)
        assert [t for t, _ in await published(rows, request["referral_id"])] == [REQUESTED]


@pytest.mark.parametrize(("offset", "status"), [(-SECOND, "rescinded"), (SECOND, "requested")])
async def test_an_assessment_arriving_before_the_lapse_is_consulted_by_the_request(
    client, make_lapse, hear_lapse, make_case_assessed, deliver, rows, due, offset, status, deadline_worker
) -> None:
    body = make_lapse()
    message = await deliver(make_case_assessed(body["referral_id"], due + offset))
    _, lapsed = await hear_lapse(body)

    request = await raise_request(client, body, deadline_worker)

    assert request["status"] == status
    types = [t for t, _ in await published(rows, body["referral_id"])]
    history = await stored(rows, request)
    if status == "rescinded":
        assert request["rescission_reason"] == "assessed_before_deadline"
        assert types == [REQUESTED, RESCINDED]  # the audit trail shows both
        assert history == [
            (
                "WarrantRequested",  # the worker's notice, resting on intake's lapse event
                {"actor": "divert-intake-worker", "role": "deadline_worker", "agency": None, "causation_id": lapsed.id},
            ),
            ("RequestRescinded", {"actor": "/divert/warrants", "role": "service", "causation_id": message.id}),
        ]
    else:
        assert types == [REQUESTED]
        assert [t for t, _ in history] == ["WarrantRequested"]


async def test_a_withdrawal_after_the_lapse_rescinds(
    client, make_lapsed, make_referral_withdrawn, deliver, rows, deadline_worker, prosecutor
) -> None:
    request = await raise_request(client, await make_lapsed(), deadline_worker)

    await deliver(make_referral_withdrawn(request["referral_id"]), "/divert/intake")

    assert (await current(client, request, prosecutor))["rescission_reason"] == "referral_withdrawn"
    [_, (event_type, data)] = await published(rows, request["referral_id"])
    assert (event_type, data["reason"], data["jurisdiction"]) == (RESCINDED, "referral_withdrawn", "king-county")


async def test_a_withdrawal_heard_before_the_lapse_notice_records_the_request_already_rescinded(
    client, make_lapsed, make_referral_withdrawn, deliver, rows, deadline_worker
) -> None:
    body = await make_lapsed()
    await deliver(make_referral_withdrawn(body["referral_id"]), "/divert/intake")

    request = await raise_request(client, body, deadline_worker)

    assert (request["status"], request["rescission_reason"]) == ("rescinded", "referral_withdrawn")
    assert [t for t, _ in await published(rows, body["referral_id"])] == [REQUESTED, RESCINDED]


async def test_an_acknowledged_request_found_wrongful_is_flagged_once_not_changed(
    client, make_lapsed, make_case_assessed, make_referral_withdrawn, deliver, rows, due, deadline_worker, prosecutor
) -> None:
    request = await raise_request(client, await make_lapsed(), deadline_worker)
    await client.post(f"/v1/warrant-requests/{request['warrant_request_id']}/acknowledgement", headers=prosecutor)

    await deliver(make_case_assessed(request["referral_id"], due - SECOND))
    await deliver(make_referral_withdrawn(request["referral_id"]), "/divert/intake")  # no second flag

    view = await current(client, request, prosecutor)
    assert (view["status"], view["acknowledged_by"], view["rescinded_at"]) == ("acknowledged", "prosecutor", None)
    assert (view["flagged"], view["flag_reason"]) == (True, "assessed_before_deadline")
    assert view["flagged_at"] is not None
    sent = await published(rows, request["referral_id"])
    assert [t for t, _ in sent] == [REQUESTED, ACKNOWLEDGED, FLAGGED]
    assert sent[2][1]["reason"] == "assessed_before_deadline"
    assert [t for t, _ in await stored(rows, request)] == [
        "WarrantRequested",
        "RequestAcknowledged",
        "WrongfulRequestFlagged",
    ]


async def test_a_rescinded_request_stays_as_it_is(
    client, make_lapsed, make_case_assessed, make_referral_withdrawn, deliver, rows, due, deadline_worker, prosecutor
) -> None:
    request = await raise_request(client, await make_lapsed(), deadline_worker)
    await deliver(make_referral_withdrawn(request["referral_id"]), "/divert/intake")

    await deliver(make_case_assessed(request["referral_id"], due - SECOND))
    await deliver(make_referral_withdrawn(request["referral_id"]), "/divert/intake")

    assert (await current(client, request, prosecutor))["rescission_reason"] == "referral_withdrawn"
    assert [t for t, _ in await published(rows, request["referral_id"])] == [REQUESTED, RESCINDED]


async def test_duplicate_lapses_after_a_fact_give_one_request_rescinded_once(
    client, make_lapsed, make_case_assessed, deliver, rows, due, deadline_worker
) -> None:
    body = await make_lapsed()
    await deliver(make_case_assessed(body["referral_id"], due))  # exactly at the due time: on time

    first = await raise_request(client, body, deadline_worker)
    again = await raise_request(client, body, deadline_worker, status=201)  # its key again: the first status
    unkeyed = await client.post(
        "/v1/warrant-requests", json={**body, "lapsed_at": (due + 9 * SECOND).isoformat()}, headers=deadline_worker
    )

    assert unkeyed.status_code == 200
    assert first == again == unkeyed.json()
    assert first["status"] == "rescinded"
    assert [t for t, _ in await published(rows, body["referral_id"])] == [REQUESTED, RESCINDED]


async def test_facts_about_referrals_without_requests_wait_for_the_lapse(
    client, make_case_assessed, deliver, rows, due
) -> None:
    event = make_case_assessed(uuid4(), due - SECOND)

    await deliver(event)

    assert await rows(outbox) == []
    [fact] = await rows(referral_facts)
    assert fact["referral_id"] == str(event.referral_id)


async def test_warrants_keeps_standing_times_and_event_ids_never_personal_data_or_case_content(
    warrants, make_lapse, hear_lapse, make_case_assessed, make_referral_withdrawn, deliver, rows, due
) -> None:
    body = make_lapse()
    accepted, lapsed = await hear_lapse(body)
    assessed = await deliver(make_case_assessed(body["referral_id"], due - SECOND))
    withdrawn = await deliver(make_referral_withdrawn(body["referral_id"]), "/divert/intake")

    [fact] = await rows(referral_facts)

    assert fact == {
        "referral_id": body["referral_id"],
        "jurisdiction": "king-county",
        "pathway": "arrest_diversion",
        "lapse_action": "warrant_request",
        "accepted_event_id": accepted.id,
        "assessment_due_by": due,
        "due_event_id": accepted.id,
        "lapsed_at": due + 2 * SECOND,
        "due_at_lapse": due,
        "lapse_event_id": lapsed.id,
        "assessment_completed_at": due - SECOND,
        "assessment_event_id": assessed.id,
        "withdrawn_at": due,
        "withdrawal_event_id": withdrawn.id,
        "rms_agency": "SPD",
        "rms_case_number": "2025-000123",
        "officer_id": "officer-1",
        "offense_category": "drug_possession",
        "offense_statute": None,
        "referred_at": due - timedelta(days=30),
        "policy_version": "2025-01-01",
        "accepted_due_by": due,
        "updated_at": fact["updated_at"],
    }
    async with warrants.engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        columns = {
            column["name"]
            for table in tables
            for column in await connection.run_sync(lambda sync, t=table: inspect(sync).get_columns(t))
        }
    assert not columns & {
        *("needs", "need", "contacts", "consent", "notes", "reason"),
        *("given_name", "family_name", "date_of_birth", "rms_person_id", "phone"),
    }


async def test_a_lapse_racing_an_on_time_assessment_never_leaves_a_warrant_standing(
    client, make_lapsed, make_case_assessed, deliver, rows, due, deadline_worker, prosecutor
) -> None:
    bodies = [await make_lapsed() for _ in range(8)]

    async def lapse_then_view(body: dict[str, Any]) -> None:
        await client.post("/v1/warrant-requests", json=body, headers=deadline_worker)

    # Whichever commits first, the other must see it (the referral-facts row orders them).
    await asyncio.gather(
        *(lapse_then_view(body) for body in bodies),
        *(deliver(make_case_assessed(body["referral_id"], due)) for body in bodies),
    )

    listed = (await client.get("/v1/warrant-requests", headers=prosecutor)).json()["items"]
    assert sorted(item["referral_id"] for item in listed) == sorted(body["referral_id"] for body in bodies)
    assert {item["status"] for item in listed} == {"rescinded"}
    for body in bodies:
        assert [t for t, _ in await published(rows, body["referral_id"])] == [REQUESTED, RESCINDED]
