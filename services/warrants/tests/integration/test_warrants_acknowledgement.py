"""Prosecutors and courts acknowledge requests: `POST /v1/warrant-requests/{id}/acknowledgement`.

Who acknowledges is the caller's role, from its token; `acknowledged_by` in the body is accepted
only when it names that role. Requests are raised after warrants heard of the lapse (`make_lapsed`)."""

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import uuid4

import httpx
import pytest

from divert_platform.schema import events, outbox

PROBLEM_JSON = "application/problem+json"
Headers = dict[str, str]
Token = Callable[..., Headers]


async def raise_request(client: httpx.AsyncClient, body: dict[str, Any], worker: Headers) -> dict[str, Any]:
    created = await client.post("/v1/warrant-requests", json=body, headers=worker)
    assert created.status_code == 201, created.text
    return created.json()


def ack_url(request: dict[str, Any]) -> str:
    return f"/v1/warrant-requests/{request['warrant_request_id']}/acknowledgement"


@pytest.mark.parametrize("role", ["prosecutor", "court"])
async def test_acknowledging_records_who_and_when_and_publishes_it(
    client: httpx.AsyncClient, make_lapsed, rows, role: str, token: Token, deadline_worker: Headers
) -> None:
    request = await raise_request(client, await make_lapsed(), deadline_worker)
    caller = token(role, subject=f"{role}-office-1")

    response = await client.post(ack_url(request), headers=caller)

    assert response.status_code == 200, response.text
    view = response.json()
    assert (view["status"], view["acknowledged_by"], view["flagged"]) == ("acknowledged", role, False)
    assert datetime.fromisoformat(view["acknowledged_at"]).utcoffset().total_seconds() == 0
    assert (await client.get(f"/v1/warrant-requests/{request['warrant_request_id']}", headers=caller)).json() == view
    published = await rows(outbox, outbox.c.message_key == request["referral_id"])
    assert [row["event_type"] for row in published] == [
        "org.divert.warrant.requested.v1",
        "org.divert.warrant.request_acknowledged.v1",
    ]
    assert published[1]["data"]["acknowledged_by"] == role
    stored = await rows(events, events.c.stream_id == f"warrant-request-{request['warrant_request_id']}")
    assert [(e["event_type"], e["metadata"]) for e in stored][1] == (
        "RequestAcknowledged",
        {"actor": f"{role}-office-1", "role": role, "agency": None},
    )


async def test_the_same_role_acknowledging_again_is_a_harmless_retry(
    client: httpx.AsyncClient, make_lapsed, rows, token: Token, deadline_worker: Headers
) -> None:
    request = await raise_request(client, await make_lapsed(), deadline_worker)
    first = await client.post(ack_url(request), json={"acknowledged_by": "court"}, headers=token("court"))

    again = await client.post(ack_url(request), headers=token("court", subject="another-clerk"))

    assert again.status_code == 200
    assert again.json() == first.json()
    assert len(await rows(outbox, outbox.c.message_key == request["referral_id"])) == 2


async def test_the_other_role_acknowledging_is_a_conflict_naming_the_state(
    client: httpx.AsyncClient, make_lapsed, token: Token, deadline_worker: Headers, prosecutor: Headers
) -> None:
    request = await raise_request(client, await make_lapsed(), deadline_worker)
    await client.post(ack_url(request), headers=prosecutor)

    refused = await client.post(ack_url(request), headers=token("court"))

    assert refused.status_code == 409
    assert refused.headers["content-type"] == PROBLEM_JSON
    assert refused.json()["current_state"] == "acknowledged"
    assert "prosecutor" in refused.json()["detail"]


async def test_a_rescinded_request_cannot_be_acknowledged(
    client: httpx.AsyncClient,
    make_lapsed,
    make_referral_withdrawn,
    deliver,
    rows,
    deadline_worker: Headers,
    prosecutor: Headers,
) -> None:
    request = await raise_request(client, await make_lapsed(), deadline_worker)
    await deliver(make_referral_withdrawn(request["referral_id"]), "/divert/intake")

    refused = await client.post(ack_url(request), headers=prosecutor)

    assert refused.status_code == 409
    assert refused.headers["content-type"] == PROBLEM_JSON
    assert refused.json()["current_state"] == "rescinded"
    assert [row["event_type"] for row in await rows(outbox, outbox.c.message_key == request["referral_id"])] == [
        "org.divert.warrant.requested.v1",
        "org.divert.warrant.request_rescinded.v1",
    ]


async def test_an_unknown_request_is_a_404_problem(client: httpx.AsyncClient, token: Token) -> None:
    missing = await client.post(f"/v1/warrant-requests/{uuid4()}/acknowledgement", headers=token("court"))

    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM_JSON


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"acknowledged_by": "police"}, "body.acknowledged_by"),
        ({"acknowledged_by": "court", "needs": ["housing"]}, "body.needs"),
    ],
)
async def test_invalid_acknowledgements_are_422_problems(
    client: httpx.AsyncClient, make_lapsed, body: dict[str, Any], field: str, token: Token, deadline_worker: Headers
) -> None:
    request = await raise_request(client, await make_lapsed(), deadline_worker)

    response = await client.post(ack_url(request), json=body, headers=token("court"))

    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


async def test_requests_are_filtered_by_lifecycle_status_and_flag(
    client: httpx.AsyncClient,
    make_lapsed,
    make_case_assessed,
    make_referral_withdrawn,
    deliver,
    due,
    deadline_worker: Headers,
    prosecutor: Headers,
) -> None:
    open_, acked, withdrawn, wrongful = [
        await raise_request(client, await make_lapsed(), deadline_worker) for _ in range(4)
    ]
    for request in (acked, wrongful):
        await client.post(ack_url(request), headers=prosecutor)
    await deliver(make_referral_withdrawn(withdrawn["referral_id"]), "/divert/intake")
    await deliver(make_case_assessed(wrongful["referral_id"], due))

    async def listed(**params: str) -> list[str]:
        response = await client.get("/v1/warrant-requests", params=params, headers=prosecutor)
        assert response.status_code == 200, response.text
        return [item["warrant_request_id"] for item in response.json()["items"]]

    ids = lambda *requests: [r["warrant_request_id"] for r in requests]  # noqa: E731
    assert await listed(status="requested") == ids(open_)
    assert await listed(status="acknowledged") == ids(acked, wrongful)
    assert await listed(status="rescinded") == ids(withdrawn)
    assert await listed(flagged="true") == ids(wrongful)
    assert await listed(status="acknowledged", flagged="false") == ids(acked)


async def test_the_openapi_document_lists_the_problem_responses(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]

    acknowledgement = paths["/v1/warrant-requests/{warrant_request_id}/acknowledgement"]["post"]["responses"]

    assert {"200", "400", "401", "403", "404", "409", "413", "415", "422", "500"} <= set(acknowledgement)
    assert "application/problem+json" in acknowledgement["409"]["content"]


@pytest.mark.parametrize(("role", "claimed"), [("prosecutor", "court"), ("court", "prosecutor")])
async def test_acknowledging_in_another_roles_name_is_forbidden(
    client: httpx.AsyncClient, make_lapsed, rows, role: str, claimed: str, token: Token, deadline_worker: Headers
) -> None:
    request = await raise_request(client, await make_lapsed(), deadline_worker)

    refused = await client.post(ack_url(request), json={"acknowledged_by": claimed}, headers=token(role))

    assert refused.status_code == 403
    assert refused.headers["content-type"] == PROBLEM_JSON
    assert len(await rows(outbox, outbox.c.message_key == request["referral_id"])) == 1  # nothing acknowledged


@pytest.mark.parametrize("body", [None, {}, {"acknowledged_by": "court"}])
async def test_the_body_may_be_omitted_or_name_the_callers_own_role(
    client: httpx.AsyncClient, make_lapsed, body: dict[str, Any] | None, token: Token, deadline_worker: Headers
) -> None:
    request = await raise_request(client, await make_lapsed(), deadline_worker)

    response = await client.post(ack_url(request), json=body, headers=token("court"))

    assert response.status_code == 200, response.text
    assert response.json()["acknowledged_by"] == "court"


@pytest.mark.parametrize("role", ["program_manager", "officer", "case_manager", "service", "deadline_worker", "ops"])
async def test_only_prosecutors_and_courts_acknowledge(
    client: httpx.AsyncClient, make_lapsed, role: str, token: Token, deadline_worker: Headers
) -> None:
    request = await raise_request(client, await make_lapsed(), deadline_worker)

    refused = await client.post(ack_url(request), headers=token(role, jurisdiction="king-county", agency="SPD"))

    assert refused.status_code == 403


async def test_a_scoped_court_cannot_reach_another_jurisdictions_request(
    client: httpx.AsyncClient, make_lapsed, rows, token: Token, deadline_worker: Headers
) -> None:
    request = await raise_request(client, await make_lapsed(jurisdiction="king-county"), deadline_worker)

    missing = await client.post(ack_url(request), headers=token("court", jurisdiction="santa-fe"))
    taken = await client.post(ack_url(request), headers=token("court", jurisdiction="king-county"))

    assert missing.status_code == 404
    assert missing.json()["detail"] == f"no warrant request {request['warrant_request_id']}"
    assert taken.status_code == 200
