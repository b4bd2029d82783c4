"""The warrants REST API over a real, migrated database (SQLite; PostgreSQL when configured).

Fixtures `warrants` and `client` come from conftest.py; a request is raised after warrants heard
of the referral's acceptance and lapse (`hear_lapse`, `make_lapsed`)."""

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import func, select

from divert_platform.schema import events, outbox
from divert_warrants.bootstrap import Warrants

DUE = datetime(2025, 3, 9, 7, 59, 59, tzinfo=UTC)


def lapse(**changes: Any) -> dict[str, Any]:
    """A body as intake's deadline activity sends it."""
    body = {
        "referral_id": str(uuid4()),
        "jurisdiction": "king-county",
        "kind": "warrant_request",
        "assessment_due_by": DUE.isoformat(),
        "lapsed_at": (DUE + timedelta(seconds=2)).isoformat(),
    }
    body.update(changes)
    return body


PROBLEM_JSON = "application/problem+json"
Headers = dict[str, str]


def key_for(body: dict[str, Any]) -> dict[str, str]:
    return {"Idempotency-Key": f"deadline-lapse-{body['referral_id']}"}


async def count(warrants: Warrants, table: Any) -> int:
    async with warrants.unit_of_work() as uow:
        return (await uow.session.execute(select(func.count()).select_from(table))).scalar_one()


async def test_the_first_lapse_creates_a_request_and_publishes_it_once(
    client: httpx.AsyncClient, warrants: Warrants, deadline_worker: Headers, hear_lapse
) -> None:
    body = lapse()
    _, lapsed = await hear_lapse(body)

    created = await client.post("/v1/warrant-requests", json=body, headers={**deadline_worker, **key_for(body)})

    assert created.status_code == 201, created.text
    view = created.json()
    assert set(view) == {
        "warrant_request_id",
        "referral_id",
        "jurisdiction",
        "kind",
        "status",
        "assessment_due_by",
        "lapsed_at",
        "requested_at",
        "rescinded_at",
        "rescission_reason",
        "acknowledged_at",
        "acknowledged_by",
        "flagged",
        "flag_reason",
        "flagged_at",
        *("rms_agency", "rms_case_number", "officer_id", "offense_category", "offense_statute"),
        *("referred_at", "policy_version", "originally_due_by"),
        *("may_file", "notice", "disposition", "disposed_at"),
    }
    assert (view["rescinded_at"], view["acknowledged_by"], view["flagged"], view["flag_reason"]) == (
        None,
        None,
        False,
        None,
    )
    assert (view["referral_id"], view["status"], view["kind"]) == (body["referral_id"], "requested", "warrant_request")
    assert datetime.fromisoformat(view["assessment_due_by"]) == DUE
    async with warrants.unit_of_work() as uow:
        [row] = (await uow.session.execute(select(outbox))).all()
        [event] = (await uow.session.execute(select(events))).all()
    assert (row.topic, row.event_type, row.message_key) == (
        "divert.warrants",
        "org.divert.warrant.requested.v1",
        body["referral_id"],
    )
    assert row.data["warrant_request_id"] == view["warrant_request_id"]
    # The caller's token, and the lapse event of intake's the request rests on.
    assert event.metadata == {
        "actor": "divert-intake-worker",
        "role": "deadline_worker",
        "agency": None,
        "causation_id": lapsed.id,
    }


async def test_a_repeat_for_the_same_referral_returns_the_existing_request(
    client: httpx.AsyncClient, warrants: Warrants, deadline_worker: Headers, make_lapsed
) -> None:
    body = await make_lapsed()
    first = await client.post("/v1/warrant-requests", json=body, headers={**deadline_worker, **key_for(body)})
    retried = await client.post("/v1/warrant-requests", json=body, headers={**deadline_worker, **key_for(body)})
    # Another caller, another key, a later lapse time: still the same referral's one request.
    later = await client.post(
        "/v1/warrant-requests",
        json={**body, "lapsed_at": (DUE + timedelta(hours=1)).isoformat()},
        headers={**deadline_worker, "Idempotency-Key": "another-key"},
    )
    unkeyed = await client.post("/v1/warrant-requests", json=body, headers=deadline_worker)

    assert first.status_code == 201
    # The same key gets the first call's status; any other call, "already there".
    assert [r.status_code for r in (retried, later, unkeyed)] == [201, 200, 200]
    assert retried.json() == later.json() == unkeyed.json() == first.json()
    assert await count(warrants, outbox) == 1
    assert await count(warrants, events) == 1


async def test_concurrent_lapse_notices_for_one_referral_create_one_request(
    client: httpx.AsyncClient, warrants: Warrants, deadline_worker: Headers, make_lapsed
) -> None:
    body = await make_lapsed()

    responses = await asyncio.gather(
        *(
            client.post("/v1/warrant-requests", json=body, headers={**deadline_worker, "Idempotency-Key": f"k{i}"})
            for i in range(5)
        )
    )

    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200, 201]
    assert len({r.json()["warrant_request_id"] for r in responses}) == 1
    assert await count(warrants, outbox) == 1


async def test_an_idempotency_key_reused_with_another_body_is_a_conflict_the_worker_can_tell_apart(
    client: httpx.AsyncClient, deadline_worker: Headers, make_lapsed
) -> None:
    body = await make_lapsed()
    first = await client.post(
        "/v1/warrant-requests", json=body, headers={**deadline_worker, "Idempotency-Key": "shared"}
    )
    assert first.status_code == 201, first.text

    for other in (await make_lapsed(), lapse()):  # another lapse heard of, or not heard of yet
        reused = await client.post(
            "/v1/warrant-requests", json=other, headers={**deadline_worker, "Idempotency-Key": "shared"}
        )

        assert reused.status_code == 409
        assert reused.headers["content-type"] == PROBLEM_JSON
        problem = reused.json()
        assert (problem["status"], problem["type"], problem["field"]) == (
            409,
            "https://divert.example/problems/conflict",
            "Idempotency-Key",
        )
        assert "Retry-After" not in reused.headers  # final: unlike `lapse-not-recorded`


async def test_the_same_instant_in_another_offset_is_the_same_body(
    client: httpx.AsyncClient, deadline_worker: Headers, make_lapsed
) -> None:
    body = await make_lapsed()
    await client.post("/v1/warrant-requests", json=body, headers={**deadline_worker, "Idempotency-Key": "offsets"})
    pacific = timezone(timedelta(hours=-8))
    shifted = {**body, "assessment_due_by": DUE.astimezone(pacific).isoformat()}

    again = await client.post(
        "/v1/warrant-requests", json=shifted, headers={**deadline_worker, "Idempotency-Key": "offsets"}
    )

    assert again.status_code == 201  # the same body: a retry, answered with the first call's status
    assert datetime.fromisoformat(again.json()["assessment_due_by"]).utcoffset() == timedelta(0)


async def test_requests_are_listed_oldest_first_and_filtered(
    client: httpx.AsyncClient, deadline_worker: Headers, prosecutor: Headers, make_lapsed
) -> None:
    bodies = [
        await make_lapsed(jurisdiction="king-county", kind="warrant_request"),
        await make_lapsed(jurisdiction="king-county", kind="return_for_charging"),
        await make_lapsed(jurisdiction="demo", kind="warrant_request"),
    ]
    ids = []
    for body in bodies:
        created = await client.post("/v1/warrant-requests", json=body, headers=deadline_worker)
        ids.append(created.json()["warrant_request_id"])

    async def listed(**params: str) -> list[str]:
        response = await client.get("/v1/warrant-requests", params=params, headers=prosecutor)
        assert response.status_code == 200, response.text
        return [item["warrant_request_id"] for item in response.json()["items"]]

    assert await listed() == ids
    assert await listed(jurisdiction="king-county") == ids[:2]
    assert await listed(kind="warrant_request") == [ids[0], ids[2]]
    assert await listed(jurisdiction="king-county", kind="warrant_request") == [ids[0]]
    assert await listed(referral_id=bodies[1]["referral_id"]) == [ids[1]]
    assert await listed(status="requested", jurisdiction="demo") == [ids[2]]
    assert await listed(jurisdiction="nowhere") == []
    assert await listed(limit="2") == ids[:2]


async def test_one_request_is_read_by_id(
    client: httpx.AsyncClient, deadline_worker: Headers, prosecutor: Headers, make_lapsed
) -> None:
    created = (await client.post("/v1/warrant-requests", json=await make_lapsed(), headers=deadline_worker)).json()

    read = await client.get(f"/v1/warrant-requests/{created['warrant_request_id']}", headers=prosecutor)

    assert read.status_code == 200
    assert read.json() == created


async def test_an_unknown_request_is_a_404_problem(client: httpx.AsyncClient, prosecutor: Headers) -> None:
    missing = await client.get(f"/v1/warrant-requests/{uuid4()}", headers=prosecutor)

    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM_JSON
    assert missing.json()["title"] == "Not found"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "issued"}, "query.status"),
        ({"kind": "arrest"}, "query.kind"),
        ({"referral_id": "not-a-uuid"}, "query.referral_id"),
        ({"limit": "0"}, "query.limit"),
    ],
)
async def test_invalid_filters_are_422_problems_naming_the_field(
    client: httpx.AsyncClient, params: dict[str, str], field: str, prosecutor: Headers
) -> None:
    response = await client.get("/v1/warrant-requests", params=params, headers=prosecutor)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert [e["field"] for e in response.json()["errors"]] == [field]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "arrest"}, "body.kind"),
        ({"assessment_due_by": "2025-03-09T07:59:59"}, "body.assessment_due_by"),
        ({"lapsed_at": (DUE - timedelta(hours=1)).isoformat()}, "body.lapsed_at"),
        ({"needs": ["housing"]}, "body.needs"),
    ],
)
async def test_invalid_bodies_are_422_problems_and_record_nothing(
    client: httpx.AsyncClient, warrants: Warrants, changes: dict[str, Any], field: str, deadline_worker: Headers
) -> None:
    response = await client.post("/v1/warrant-requests", json=lapse(**changes), headers=deadline_worker)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert field in [e["field"] for e in response.json()["errors"]]
    assert await count(warrants, outbox) == 0


async def test_an_invalid_id_in_the_path_is_a_422_problem(client: httpx.AsyncClient, prosecutor: Headers) -> None:
    response = await client.get("/v1/warrant-requests/nope", headers=prosecutor)

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["path.warrant_request_id"]
