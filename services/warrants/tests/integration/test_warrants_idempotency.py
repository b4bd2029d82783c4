"""`Idempotency-Key` on warrants' routes, over real SQLite and PostgreSQL: a retry records nothing
again and gets the first status with the request as it stands now; a key keeps the request's id
and the status, never the view; and migration 0005 rewrites the bodies keys kept before it.
Fixtures come from conftest.py; requests are raised after warrants heard of the lapse."""

import json
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import text

from divert_platform.schema import events
from divert_platform.testing import migrate_to
from divert_warrants.bootstrap import MIGRATIONS, Warrants

Headers = dict[str, str]


def keyed(headers: Headers, key: str) -> Headers:
    return {**headers, "Idempotency-Key": key}


async def stored_events(rows, request: dict[str, Any], event_type: str) -> int:
    stream = f"warrant-request-{request['warrant_request_id']}"
    return len(await rows(events, events.c.stream_id == stream, events.c.event_type == event_type))


async def stored_keys(warrants: Warrants) -> list[dict[str, Any]]:
    """Every row of `idempotency_keys`, every column, as the database holds it."""
    async with warrants.engine.connect() as connection:
        return [dict(row._mapping) for row in await connection.execute(text("SELECT * FROM idempotency_keys"))]


async def test_a_retried_lapse_notice_gets_the_first_status_and_the_request_as_it_stands(
    client: httpx.AsyncClient, make_lapsed, rows, deadline_worker: Headers, prosecutor: Headers
) -> None:
    body = await make_lapsed()
    first = await client.post("/v1/warrant-requests", json=body, headers=keyed(deadline_worker, "lapse-1"))
    assert first.status_code == 201, first.text
    request = first.json()
    url = f"/v1/warrant-requests/{request['warrant_request_id']}/acknowledgement"
    assert (await client.post(url, headers=prosecutor)).status_code == 200

    again = await client.post("/v1/warrant-requests", json=body, headers=keyed(deadline_worker, "lapse-1"))
    other_key = await client.post("/v1/warrant-requests", json=body, headers=keyed(deadline_worker, "lapse-2"))

    assert (again.status_code, other_key.status_code) == (201, 200)  # the first call's status; "already there"
    assert again.json() == other_key.json() and again.json()["warrant_request_id"] == request["warrant_request_id"]
    assert (request["status"], again.json()["status"]) == ("requested", "acknowledged")  # read again
    assert await stored_events(rows, request, "WarrantRequested") == 1


async def test_a_retried_acknowledgement_records_nothing_again_and_answers_with_the_request_now(
    client: httpx.AsyncClient, make_lapsed, make_case_assessed, deliver, rows, due, deadline_worker, prosecutor
) -> None:
    body = await make_lapsed()
    request = (await client.post("/v1/warrant-requests", json=body, headers=deadline_worker)).json()
    url = f"/v1/warrant-requests/{request['warrant_request_id']}/acknowledgement"
    first = await client.post(url, headers=keyed(prosecutor, "ack-1"))
    assert first.status_code == 200, first.text
    # The assessment turns out on time after the prosecutor took the request: it is flagged.
    await deliver(make_case_assessed(body["referral_id"], due - timedelta(seconds=1)))

    again = await client.post(url, headers=keyed(prosecutor, "ack-1"))

    assert again.status_code == 200
    assert (first.json()["flagged"], again.json()["flagged"]) == (False, True)
    assert await stored_events(rows, request, "RequestAcknowledged") == 1


async def test_a_key_keeps_the_status_and_the_request_id_only(
    client: httpx.AsyncClient, make_lapsed, warrants: Warrants, deadline_worker: Headers, prosecutor: Headers
) -> None:
    body = await make_lapsed()
    created = await client.post("/v1/warrant-requests", json=body, headers=keyed(deadline_worker, "lapse-1"))
    request_id = created.json()["warrant_request_id"]
    url = f"/v1/warrant-requests/{request_id}/acknowledgement"
    assert (await client.post(url, headers=keyed(prosecutor, "ack-1"))).status_code == 200

    rows = await stored_keys(warrants)

    ids = json.dumps({"warrant_request_id": request_id})
    assert sorted((row["status_code"], row["response"]) for row in rows) == [(200, ids), (201, ids)]
    dump = json.dumps(rows, default=str)
    looked_for = (body["referral_id"], "king-county", "2025-03-09", "prosecutor", "Alex")
    assert [value for value in looked_for if value in dump] == []


POLICE_FACTS = (
    *("rms_agency", "rms_case_number", "officer_id", "offense_category", "offense_statute"),
    *("referred_at", "policy_version", "originally_due_by"),
)


async def test_0005_rewrites_a_body_kept_before_it_to_the_id_and_the_key_still_guards(
    client: httpx.AsyncClient, make_lapsed, rows, warrants: Warrants, database_url: str, deadline_worker: Headers
) -> None:
    body = await make_lapsed()
    first = await client.post("/v1/warrant-requests", json=body, headers=keyed(deadline_worker, "lapse-old"))
    assert first.status_code == 201, first.text
    ids = json.dumps({"warrant_request_id": first.json()["warrant_request_id"]})
    await migrate_to(database_url, MIGRATIONS, "downgrade", "0004")
    async with warrants.engine.begin() as connection:  # the key as releases before 0005 kept it
        await connection.execute(
            text("UPDATE idempotency_keys SET response = :body WHERE response = :ids"),
            {"body": json.dumps(first.json()), "ids": ids},
        )
    assert [json.loads(row["response"]) for row in await stored_keys(warrants)] == [first.json()]

    await migrate_to(database_url, MIGRATIONS, "upgrade", "head")

    [row] = await stored_keys(warrants)
    assert (row["status_code"], row["response"]) == (201, ids)
    again = await client.post("/v1/warrant-requests", json=body, headers=keyed(deadline_worker, "lapse-old"))
    # Downgrading past 0006 dropped warrants' police facts: the request shows them as null.
    assert (again.status_code, again.json()) == (201, {**first.json(), **dict.fromkeys(POLICE_FACTS)})
    assert await stored_events(rows, first.json(), "WarrantRequested") == 1
