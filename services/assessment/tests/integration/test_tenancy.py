"""Tenancy: a case belongs to the case agency serving its jurisdiction, and only that agency's case
managers see or change it; another agency's case answers 404, as if it did not exist."""

import logging
from datetime import timedelta

from divert_assessment.adapters.tables import cases
from divert_assessment.domain.case import Case
from divert_platform.clock import utcnow
from divert_platform.schema import events

ALBANY = {"jurisdiction": "albany", "policy": "albany"}


async def test_a_case_belongs_to_the_agency_serving_its_jurisdiction(open_case, rows) -> None:
    king, snohomish, albany = await open_case(), await open_case(jurisdiction="snohomish"), await open_case(**ALBANY)

    agencies = {row["referral_id"]: row["agency"] for row in await rows(cases)}

    assert agencies == {
        str(king.referral_id): "reach-king-county",
        str(snohomish.referral_id): "reach-king-county",  # the tests' configuration adds snohomish
        str(albany.referral_id): "albany-lead",
    }


async def test_another_agencys_case_is_404_to_read_and_to_change(client, open_case, bearer, rows) -> None:
    theirs = await open_case(**ALBANY)
    url = f"/v1/cases/{theirs.referral_id}"

    read = await client.get(url)
    closed = await client.post(f"{url}/closure", json={"reason": "moved_away", "closed_at": utcnow().isoformat()})
    consent = await client.post(
        f"{url}/consents",
        json={
            "parties": ["demo-case-agency"],
            "purpose": "care_coordination",
            "scope": "full_case",
            "part2": False,
            "expires_at": (utcnow() + timedelta(days=9)).isoformat(),
        },
    )

    for response in (read, closed, consent):
        assert response.status_code == 404 and response.json()["detail"] == f"no case for referral {theirs.referral_id}"
        assert "Ana" not in response.text
    assert [e["event_type"] for e in await rows(events, events.c.stream_id == Case.stream_id(theirs.referral_id))] == [
        "CaseOpened"
    ]
    # the owning agency's case managers see and change it
    albany = bearer(agency="albany-lead", subject="cm-albany")
    assert (await client.get(url, headers=albany)).json()["subject"]["given_name"] == "Ana"
    assert (await client.post(f"{url}/contacts", headers=albany, json=contact())).status_code == 201


async def test_an_idempotent_replay_never_reaches_another_agency(client, open_case, bearer) -> None:
    ours = await open_case()
    headers = {"Idempotency-Key": "contact-1"}
    body = contact()
    assert (await client.post(f"/v1/cases/{ours.referral_id}/contacts", json=body, headers=headers)).status_code == 201

    replay = await client.post(
        f"/v1/cases/{ours.referral_id}/contacts",
        json=body,
        headers=headers | bearer(agency="albany-lead", subject="cm-albany"),
    )

    assert replay.status_code == 404 and "Ana" not in replay.text


async def test_the_list_holds_only_the_callers_agencys_cases(client, open_case, bearer) -> None:
    ours, theirs = await open_case(), await open_case(**ALBANY)

    listed = (await client.get("/v1/cases")).json()["items"]
    listed_there = (await client.get("/v1/cases", headers=bearer(agency="albany-lead"))).json()["items"]
    by_jurisdiction = (await client.get("/v1/cases", params={"jurisdiction": "albany"})).json()["items"]

    assert [item["referral_id"] for item in listed] == [str(ours.referral_id)]
    assert [item["referral_id"] for item in listed_there] == [str(theirs.referral_id)]
    assert by_jurisdiction == []


async def test_a_case_of_a_jurisdiction_without_an_agency_is_nobodys_but_is_counted(
    client, open_case, bearer, rows, caplog
) -> None:
    with caplog.at_level(logging.WARNING, logger="divert_assessment.service_layer.handlers"):
        orphan = await open_case(jurisdiction="nowhere", policy="nowhere")

    [row] = await rows(cases, cases.c.referral_id == str(orphan.referral_id))
    assert row["agency"] is None
    [warning] = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert "'nowhere'" in warning.getMessage() and str(orphan.referral_id) in warning.getMessage()
    assert not {"Ana", "Diaz", "555-0100", "P-9", "SPD"} & set(warning.getMessage().replace(",", " ").split())
    for headers in (bearer(), bearer(agency="albany-lead"), bearer(agency="nowhere")):
        assert (await client.get(f"/v1/cases/{orphan.referral_id}", headers=headers)).status_code == 404
        assert (await client.get("/v1/cases", params={"jurisdiction": "nowhere"}, headers=headers)).json()[
            "items"
        ] == []
    window = {"from": (utcnow() - timedelta(days=1)).isoformat(), "to": (utcnow() + timedelta(hours=1)).isoformat()}
    program_manager = bearer("program_manager", jurisdiction="nowhere")
    report = await client.get("/v1/reports/funnel", params=window, headers=program_manager)
    assert report.json()["referred"] == 1


def contact() -> dict[str, str]:
    return {"at": (utcnow() - timedelta(minutes=5)).isoformat(), "method": "phone", "outcome": "attempted"}
