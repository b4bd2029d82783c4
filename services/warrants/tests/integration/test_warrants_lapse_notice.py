"""An actionable lapse notice, over real SQLite and PostgreSQL: prosecutors and courts see the
police's own facts about each request and nothing of the case agency's; prosecutors record what they
did with it (never `filed` where nothing may be filed); the list filters and pages.

Requests are raised from intake-like events delivered through the consumer's handlers (conftest.py)."""

import json
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import insert

from divert_contracts import dataplane
from divert_contracts.referrals import Location, RmsReference, Subject
from divert_platform.schema import outbox
from divert_platform.testing import migrate_to
from divert_warrants.adapters.tables import referral_facts, warrant_requests
from divert_warrants.bootstrap import MIGRATIONS, Warrants
from divert_warrants.entrypoints.schemas import WarrantRequestView

Headers = dict[str, str]
SECOND = timedelta(seconds=1)
PROBLEM_JSON = "application/problem+json"
DISPOSED = "org.divert.warrant.request_disposed.v1"
POLICE_FACTS = (
    *("rms_agency", "rms_case_number", "officer_id", "offense_category", "offense_statute"),
    *("referred_at", "policy_version", "originally_due_by"),
)


def at(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


@pytest.fixture
def court(token) -> Headers:
    return token("court", subject="court-1", jurisdiction="*")


@pytest.fixture
def raise_request(client: httpx.AsyncClient, deliver, make_referral_accepted, make_deadline_lapsed, deadline_worker):
    """`await raise_request(body, **accepted_changes)`: intake's acceptance and lapse reach warrants,
    then the deadline worker's notice; returns the request as the worker got it."""

    async def raise_it(body: dict[str, Any], **accepted: Any) -> dict[str, Any]:
        await deliver(make_referral_accepted(body, **accepted), "/divert/intake")
        await deliver(make_deadline_lapsed(body), "/divert/intake")
        created = await client.post("/v1/warrant-requests", json=body, headers=deadline_worker)
        assert created.status_code == 201, created.text
        return created.json()

    return raise_it


@pytest.mark.parametrize(
    ("jurisdiction", "kind", "asks"),
    [
        ("king-county", "warrant_request", "may request a warrant"),
        ("santa-fe", "return_for_charging", "returns to the prosecutor for a charging decision"),
    ],
)
async def test_a_lapse_heard_from_intake_shows_the_prosecutor_and_court_every_police_fact(
    client: httpx.AsyncClient,
    deliver,
    make_lapse,
    make_referral_accepted,
    make_deadline_extended,
    make_deadline_lapsed,
    deadline_worker: Headers,
    prosecutor: Headers,
    court: Headers,
    due: datetime,
    jurisdiction: str,
    kind: str,
    asks: str,
) -> None:
    extended_to = due + timedelta(days=1)
    body = make_lapse(
        jurisdiction=jurisdiction,
        kind=kind,
        assessment_due_by=extended_to.isoformat(),
        lapsed_at=(extended_to + 2 * SECOND).isoformat(),
    )
    accepted = make_referral_accepted(
        body,
        assessment_due_by=due,
        rms=RmsReference(agency="SFPD", case_number="2025-000777", officer_id="badge-4411"),
        offense_category="drug_possession",
        offense_statute="NMSA 30-31-23",
        policy_version="2025-02-01",
    )
    await deliver(accepted, "/divert/intake")
    extension = make_deadline_extended(body["referral_id"], due, extended_to)
    await deliver(extension.model_copy(update={"jurisdiction": jurisdiction}), "/divert/intake")
    await deliver(make_deadline_lapsed(body), "/divert/intake")
    created = await client.post("/v1/warrant-requests", json=body, headers=deadline_worker)
    assert created.status_code == 201, created.text

    for reader in (prosecutor, court):
        view = (await client.get(f"/v1/warrant-requests/{created.json()['warrant_request_id']}", headers=reader)).json()
        assert {name: view[name] for name in POLICE_FACTS if not name.endswith(("_at", "_by"))} == {
            "rms_agency": "SFPD",
            "rms_case_number": "2025-000777",
            "officer_id": "badge-4411",
            "offense_category": "drug_possession",
            "offense_statute": "NMSA 30-31-23",
            "policy_version": "2025-02-01",
        }
        assert at(view["referred_at"]) == accepted.referred_at
        assert at(view["originally_due_by"]) == due  # the policy's window ...
        assert at(view["assessment_due_by"]) == extended_to  # ... and the due time in force, extended
        assert at(view["lapsed_at"]) == extended_to + 2 * SECOND
        assert (view["jurisdiction"], view["kind"], view["status"]) == (jurisdiction, kind, "requested")
        assert view["may_file"] is True and asks in view["notice"]
        assert (view["disposition"], view["disposed_at"]) == (None, None)


async def test_the_list_filters_by_status_jurisdiction_agency_and_lapse_date_and_pages_with_cursors(
    client: httpx.AsyncClient, raise_request, make_lapse, deliver, make_case_assessed, prosecutor: Headers, token, due
) -> None:
    raised: list[dict[str, Any]] = []
    for n, (jurisdiction, kind, agency) in enumerate(
        [
            ("king-county", "warrant_request", "SPD"),
            ("king-county", "warrant_request", "KCSO"),
            ("santa-fe", "return_for_charging", "SFPD"),
            ("king-county", "warrant_request", "SPD"),
            ("santa-fe", "return_for_charging", "SFPD"),
        ]
    ):
        body = make_lapse(jurisdiction=jurisdiction, kind=kind, lapsed_at=(due + timedelta(hours=n)).isoformat())
        raised.append(await raise_request(body, rms=RmsReference(agency=agency, case_number=f"c-{n}", officer_id="o")))
    # The last SPD request is rescinded: an on-time assessment overtook it.
    await deliver(make_case_assessed(raised[3]["referral_id"], due - SECOND))

    async def listed(headers: Headers = prosecutor, **params: Any) -> list[str]:
        answer = await client.get("/v1/warrant-requests", params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        return [item["rms_case_number"] for item in answer.json()["items"]]

    assert await listed() == ["c-0", "c-1", "c-2", "c-3", "c-4"]
    assert await listed(agency="SPD") == ["c-0", "c-3"]
    assert await listed(agency="SPD", status="requested") == ["c-0"]
    assert await listed(status="rescinded") == ["c-3"]
    assert await listed(jurisdiction="santa-fe") == ["c-2", "c-4"]
    assert await listed(agency="SFPD", jurisdiction="king-county") == []
    window = {
        "lapsed_from": (due + timedelta(hours=1)).isoformat(),
        "lapsed_to": (due + timedelta(hours=3)).isoformat(),
    }
    assert await listed(**window) == ["c-1", "c-2"]
    # A prosecutor of one jurisdiction sees only its requests, whatever it filters by.
    santa_fe = token("prosecutor", jurisdiction="santa-fe")
    assert await listed(santa_fe) == ["c-2", "c-4"]
    assert await listed(santa_fe, jurisdiction="king-county") == []

    pages, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/warrant-requests", params=params, headers=prosecutor)).json()
        pages.append([item["rms_case_number"] for item in page["items"]])
        if (cursor := page["next_cursor"]) is None:
            break
    assert pages == [["c-0", "c-1"], ["c-2", "c-3"], ["c-4"]]
    filtered = (
        await client.get("/v1/warrant-requests", params={"limit": 1, "agency": "SFPD"}, headers=prosecutor)
    ).json()
    following = await client.get(
        "/v1/warrant-requests",
        params={"limit": 1, "agency": "SFPD", "cursor": filtered["next_cursor"]},
        headers=prosecutor,
    )
    assert [item["rms_case_number"] for item in following.json()["items"]] == ["c-4"]
    assert following.json()["next_cursor"] is None

    forged = await client.get("/v1/warrant-requests", params={"cursor": "bm90LWEtY3Vyc29y"}, headers=prosecutor)
    assert forged.status_code == 422 and [error["field"] for error in forged.json()["errors"]] == ["query.cursor"]


async def test_a_prosecutor_records_a_disposition_once_and_it_is_published_on_divert_warrants(
    client: httpx.AsyncClient, raise_request, make_lapse, rows, prosecutor: Headers, court: Headers
) -> None:
    request = await raise_request(make_lapse())
    route = f"/v1/warrant-requests/{request['warrant_request_id']}/disposition"

    by_court = await client.post(route, json={"disposition": "filed"}, headers=court)
    assert by_court.status_code == 403
    recorded = await client.post(route, json={"disposition": "returned_to_program"}, headers=prosecutor)

    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["disposition"] == "returned_to_program" and recorded.json()["disposed_at"] is not None
    assert "recorded: returned to the program" in recorded.json()["notice"]
    [published] = await rows(outbox, outbox.c.event_type == DISPOSED)
    assert (published["topic"], published["message_key"]) == ("divert.warrants", request["referral_id"])
    assert published["data"]["disposition"] == "returned_to_program"
    assert published["data"]["warrant_request_id"] == request["warrant_request_id"]
    assert dataplane.refusal("divert.warrants", published["source"], DISPOSED) is None  # intake's consumer takes it

    again = await client.post(route, json={"disposition": "returned_to_program"}, headers=prosecutor)
    assert again.status_code == 200 and again.json() == recorded.json()
    other = await client.post(route, json={"disposition": "filed"}, headers=prosecutor)
    assert other.status_code == 409 and other.headers["content-type"].startswith(PROBLEM_JSON)
    assert other.json()["type"].endswith("/conflict")
    assert len(await rows(outbox, outbox.c.event_type == DISPOSED)) == 1


async def test_a_prosecutor_of_another_jurisdiction_cannot_dispose_of_a_request(
    client: httpx.AsyncClient, raise_request, make_lapse, rows, token
) -> None:
    request = await raise_request(make_lapse())
    route = f"/v1/warrant-requests/{request['warrant_request_id']}/disposition"

    refused = await client.post(
        route, json={"disposition": "filed"}, headers=token("prosecutor", jurisdiction="santa-fe")
    )

    assert refused.status_code == 404
    assert await rows(outbox, outbox.c.event_type == DISPOSED) == []


@pytest.mark.parametrize("settle", ["rescind", "flag"])
async def test_nothing_may_be_filed_on_a_rescinded_or_flagged_request(
    client: httpx.AsyncClient, raise_request, make_lapse, deliver, make_case_assessed, rows, prosecutor, due, settle
) -> None:
    request = await raise_request(make_lapse())
    url = f"/v1/warrant-requests/{request['warrant_request_id']}"
    if settle == "flag":
        acknowledged = await client.post(f"{url}/acknowledgement", headers=prosecutor)
        assert acknowledged.status_code == 200, acknowledged.text
    await deliver(make_case_assessed(request["referral_id"], due - SECOND))

    view = (await client.get(url, headers=prosecutor)).json()
    assert (view["status"], view["flagged"]) == (
        ("rescinded", False) if settle == "rescind" else ("acknowledged", True)
    )
    assert view["may_file"] is False and "Nothing may be filed on this request" in view["notice"]
    listed = (await client.get("/v1/warrant-requests", headers=prosecutor)).json()["items"]
    assert [(item["may_file"], item["notice"]) for item in listed] == [(False, view["notice"])]

    filed = await client.post(f"{url}/disposition", json={"disposition": "filed"}, headers=prosecutor)

    assert filed.status_code == 409 and filed.headers["content-type"].startswith(PROBLEM_JSON)
    problem = filed.json()
    assert problem["type"].endswith("/filing-refused") and problem["field"] == "body.disposition"
    assert problem["current_state"] == view["status"]
    assert await rows(outbox, outbox.c.event_type == DISPOSED) == []
    declined = await client.post(f"{url}/disposition", json={"disposition": "declined_to_file"}, headers=prosecutor)
    assert declined.status_code == 200 and declined.json()["may_file"] is False
    assert [row["data"]["disposition"] for row in await rows(outbox, outbox.c.event_type == DISPOSED)] == [
        "declined_to_file"
    ]


# Values of everything warrants hears that it must never show: who the person is, where, why the
# police contacted them, and the free-text reasons of an extension or a withdrawal.
PRIVATE = {
    "given_name": "Zebulon",
    "family_name": "Quixotic-Private",
    "date_of_birth": "1987-06-05",
    "rms_person_id": "P-SECRET-99",
    "phone": "+1 206 555 0199",
}


async def test_golden_rule_no_person_or_case_content_reaches_the_list_the_detail_or_the_outbox(
    client: httpx.AsyncClient,
    deliver,
    make_lapse,
    make_referral_accepted,
    make_deadline_extended,
    make_deadline_lapsed,
    make_referral_withdrawn,
    make_case_assessed,
    rows,
    deadline_worker: Headers,
    prosecutor: Headers,
    court: Headers,
    due: datetime,
) -> None:
    later = due + timedelta(days=1)
    body = make_lapse(assessment_due_by=later.isoformat(), lapsed_at=(later + SECOND).isoformat())
    accepted = make_referral_accepted(
        body,
        assessment_due_by=due,
        subject=Subject(**PRIVATE),
        location=Location(precinct="Needs-Housing-Precinct", neighborhood="Consent-Part2-Hood"),
        contact_drivers=("housing_need_disclosed", "mental_health_crisis"),
    )
    extension = make_deadline_extended(body["referral_id"], due, later)
    extension = extension.model_copy(update={"reason": "needs: detox bed; consent to share with provider"})
    await deliver(accepted, "/divert/intake")
    await deliver(extension, "/divert/intake")
    await deliver(make_deadline_lapsed(body), "/divert/intake")
    request = (await client.post("/v1/warrant-requests", json=body, headers=deadline_worker)).json()
    await deliver(make_case_assessed(body["referral_id"], later + 3 * SECOND))  # late: does not rescind
    withdrawal = make_referral_withdrawn(body["referral_id"], later + 4 * SECOND)
    await deliver(
        withdrawal.model_copy(update={"reason": "case manager notes: relapse, Part 2 consent"}), "/divert/intake"
    )
    url = f"/v1/warrant-requests/{request['warrant_request_id']}"
    assert (
        await client.post(f"{url}/disposition", json={"disposition": "declined_to_file"}, headers=prosecutor)
    ).status_code == 200

    readers = (prosecutor, court)
    shown = [await client.get("/v1/warrant-requests", headers=reader) for reader in readers]
    shown += [await client.get(url, headers=reader) for reader in readers]
    published = [row["data"] for row in await rows(outbox)]
    assert {row["event_type"] for row in await rows(outbox)} >= {"org.divert.warrant.requested.v1", DISPOSED}

    secrets = [*PRIVATE.values(), "Needs-Housing", "Consent-Part2", "housing_need", "mental_health", "detox", "relapse"]
    for text_shown in [answer.text for answer in shown] + [json.dumps(data) for data in published]:
        for secret in secrets:
            assert secret.lower() not in text_shown.lower()
    views = [item for answer in shown[:2] for item in answer.json()["items"]] + [answer.json() for answer in shown[2:]]
    assert views and all(set(view) == set(WarrantRequestView.model_fields) for view in views)
    for document in views + published:
        names = set(document)
        assert not names & dataplane.CASE_CONTENT_FIELDS
        assert not names & {"subject", *PRIVATE, "location", "precinct", "contact_drivers"}
    # Case content could only come in on divert.cases or as a case event: warrants reads neither.
    assert all(topic.name != "divert.cases" for topic in dataplane.service("warrants").consumes)
    for topic in dataplane.service("warrants").consumes:
        assert dataplane.refusal(topic.name, "/divert/assessment", "org.divert.case.assessment_completed.v1")


async def test_requests_stored_before_0006_still_list_with_their_police_facts_null(
    client: httpx.AsyncClient, warrants: Warrants, prosecutor: Headers, database_url: str, due: datetime
) -> None:
    await migrate_to(database_url, MIGRATIONS, "downgrade", "0005")
    async with warrants.engine.begin() as connection:  # a request and its record as 0005 kept them
        referral_id = str(uuid4())
        await connection.execute(
            insert(warrant_requests).values(
                warrant_request_id=str(uuid4()),
                referral_id=referral_id,
                jurisdiction="king-county",
                kind="warrant_request",
                status="requested",
                assessment_due_by=due,
                lapsed_at=due + SECOND,
                requested_at=due + SECOND,
                updated_at=due + SECOND,
            )
        )
        await connection.execute(
            insert(referral_facts).values(referral_id=referral_id, jurisdiction="king-county", updated_at=due)
        )
    await migrate_to(database_url, MIGRATIONS, "upgrade", "head")

    answer = await client.get("/v1/warrant-requests", headers=prosecutor)

    assert answer.status_code == 200, answer.text
    [old] = answer.json()["items"]
    assert {name: old[name] for name in POLICE_FACTS} == dict.fromkeys(POLICE_FACTS)
    assert old["may_file"] is True and old["disposition"] is None
