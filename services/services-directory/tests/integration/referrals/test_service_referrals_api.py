"""Closed-loop service referrals over REST: the consent gate, the status machine, history, events
through the outbox (and onto the topic), capacity, idempotency and scope."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from divert_contracts.directory import ServiceReferralMade, ServiceReferralStatusChanged
from divert_contracts.topics import DIRECTORY
from divert_directory.bootstrap import Directory
from divert_directory.domain.capacity import ServiceCapacity
from divert_directory.domain.service_referral import ServiceReferral
from divert_platform.kafka import create_producer, ensure_topics
from divert_platform.relay import OutboxRelay
from divert_platform.schema import events, outbox
from divert_platform.testing import records_keyed


@dataclass(frozen=True)
class Linked:
    """A case and two services it may be referred to, with their organizations."""

    referral_id: UUID
    shelter: UUID
    shelter_org: UUID
    clinic: UUID
    clinic_org: UUID


async def refer(client: httpx.AsyncClient, referral_id: UUID, service_id: UUID, need: str, **headers: str) -> Any:
    return await client.post(
        "/v1/service-referrals",
        json={"referral_id": str(referral_id), "service_id": str(service_id), "need": need},
        headers=headers,
    )


async def status(client: httpx.AsyncClient, service_referral_id: str, new: str, reason: str | None = None) -> Any:
    body = {"status": new} | ({"reason": reason} if reason else {})
    return await client.post(f"/v1/service-referrals/{service_referral_id}/status", json=body)


@pytest.fixture
async def linked(catalogue, cases) -> Linked:
    """A king-county case needing housing (1) and treatment (2), a shelter and a clinic."""
    shelter = await catalogue.add("Shelter", "housing")
    clinic = await catalogue.add("Clinic", "substance_use_treatment")
    referral_id = await cases.open("king-county", ("housing", 1), ("substance_use_treatment", 2))
    return Linked(
        referral_id=referral_id,
        shelter=shelter,
        shelter_org=await catalogue.organization_of(shelter),
        clinic=clinic,
        clinic_org=await catalogue.organization_of(clinic),
    )


async def test_a_referral_under_consent_is_made_recorded_and_published(client, cases, linked, rows) -> None:
    consent_id = await cases.consent(linked.referral_id, linked.shelter_org)

    response = await refer(client, linked.referral_id, linked.shelter, "housing")

    assert response.status_code == 201, response.text
    made = response.json()
    assert (made["status"], made["need"], made["part2"], made["consent_id"]) == (
        "sent",
        "housing",
        False,
        str(consent_id),
    )
    assert made["organization_id"] == str(linked.shelter_org) and made["next_statuses"] == ["accepted", "declined"]
    assert [(h["status"], h["actor"], h["role"], h["agency"]) for h in made["history"]] == [
        ("sent", "cm-7", "case_manager", "reach-king-county")
    ]
    stored = await rows(events, events.c.stream_id == ServiceReferral.stream_id(UUID(made["service_referral_id"])))
    assert [e["event_type"] for e in stored] == ["ServiceReferralMade"]
    [queued] = await rows(outbox, outbox.c.message_key == str(linked.referral_id))
    assert (queued["event_type"], queued["topic"]) == (ServiceReferralMade.event_type, DIRECTORY.name)
    assert queued["data"]["service_referral_id"] == made["service_referral_id"]
    assert queued["data"]["consent_id"] == str(consent_id) and queued["data"]["part2"] is False


@pytest.mark.parametrize(
    ("consent", "reason"),
    [
        ({}, "no_consent_for_organization"),
        ({"other_party": True}, "no_consent_for_organization"),
        ({"purpose": "legal_advocacy"}, "purpose_not_covered"),
        ({"expires_in": timedelta(seconds=-1)}, "consent_expired"),
        ({"revoked": True}, "consent_revoked"),
    ],
    ids=["none", "other-party", "other-purpose", "expired", "revoked"],
)
async def test_without_a_consent_in_force_the_referral_is_403_saying_which_is_missing(
    client, cases, linked, rows, consent: dict[str, Any], reason: str
) -> None:
    if consent:
        party = uuid4() if consent.get("other_party") else linked.shelter_org
        consent_id = await cases.consent(
            linked.referral_id,
            party,
            purpose=consent.get("purpose", "service_referral"),
            expires_in=consent.get("expires_in", timedelta(days=30)),
        )
        if consent.get("revoked"):
            await cases.revoke(linked.referral_id, consent_id)

    response = await refer(client, linked.referral_id, linked.shelter, "housing")

    assert response.status_code == 403, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["type"].endswith("/consent-missing")
    assert problem["missing"] == {
        "reason": reason,
        "organization_id": str(linked.shelter_org),
        "purposes": ["service_referral", "care_coordination"],
        "part2": False,
    }
    assert str(linked.shelter_org) in problem["detail"]
    assert await rows(outbox) == []


async def test_a_part2_need_needs_a_part2_consent(client, cases, linked) -> None:
    await cases.consent(linked.referral_id, linked.clinic_org, purpose="care_coordination")

    refused = await refer(client, linked.referral_id, linked.clinic, "substance_use_treatment")
    assert refused.status_code == 403 and refused.json()["type"].endswith("/consent-missing")
    assert refused.json()["missing"]["reason"] == "consent_not_part2" and refused.json()["missing"]["part2"] is True

    part2_consent = await cases.consent(linked.referral_id, linked.clinic_org, part2=True)
    made = await refer(client, linked.referral_id, linked.clinic, "substance_use_treatment")
    assert made.status_code == 201, made.text
    assert made.json()["part2"] is True and made.json()["consent_id"] == str(part2_consent)


async def test_the_service_must_exist_be_active_serve_the_jurisdiction_and_meet_the_need(
    client, catalogue, cases, linked
) -> None:
    inactive = await catalogue.add("Old shelter", "housing", status="inactive")
    albany = await catalogue.add("Albany shelter", "housing", jurisdictions=("albany",))
    for service_id in (inactive, albany):
        await cases.consent(linked.referral_id, await catalogue.organization_of(service_id))
    await cases.consent(linked.referral_id, linked.shelter_org)

    for service_id, need, field in [
        (uuid4(), "housing", "body.service_id"),
        (inactive, "housing", "body.service_id"),
        (albany, "housing", "body.service_id"),
        (linked.shelter, "food", "body.need"),
    ]:
        response = await refer(client, linked.referral_id, service_id, need)
        assert response.status_code == 422, (need, response.text)
        assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_the_loop_closes_sent_accepted_completed_with_history_and_events(client, cases, linked, rows) -> None:
    await cases.consent(linked.referral_id, linked.shelter_org)
    made = (await refer(client, linked.referral_id, linked.shelter, "housing")).json()
    service_referral_id = made["service_referral_id"]

    accepted = await status(client, service_referral_id, "accepted")
    completed = await status(client, service_referral_id, "completed")

    assert accepted.status_code == 200 and completed.status_code == 200, completed.text
    body = (await client.get(f"/v1/service-referrals/{service_referral_id}")).json()
    assert body["status"] == "completed" and body["next_statuses"] == []
    assert [(h["status"], h["reason"], h["actor"]) for h in body["history"]] == [
        ("sent", None, "cm-7"),
        ("accepted", None, "cm-7"),
        ("completed", None, "cm-7"),
    ]
    queued = await rows(outbox, outbox.c.message_key == str(linked.referral_id))
    assert [(q["event_type"], q["data"].get("status")) for q in sorted(queued, key=lambda q: q["id"])] == [
        (ServiceReferralMade.event_type, None),
        (ServiceReferralStatusChanged.event_type, "accepted"),
        (ServiceReferralStatusChanged.event_type, "completed"),
    ]
    assert queued[-1]["data"]["previous_status"] == "accepted" and queued[-1]["data"]["need"] == "housing"


async def test_an_invalid_transition_is_409_and_a_decline_needs_its_reason(client, cases, linked) -> None:
    await cases.consent(linked.referral_id, linked.shelter_org)
    service_referral_id = (await refer(client, linked.referral_id, linked.shelter, "housing")).json()[
        "service_referral_id"
    ]

    too_early = await status(client, service_referral_id, "completed")
    assert too_early.status_code == 409
    assert too_early.json()["current_status"] == "sent"
    assert too_early.json()["allowed"] == ["accepted", "declined"]

    no_reason = await status(client, service_referral_id, "declined")
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "body.reason"

    assert (await status(client, service_referral_id, "declined", "not_eligible")).status_code == 200
    final = await status(client, service_referral_id, "accepted")
    assert final.status_code == 409 and final.json()["allowed"] == []


async def test_a_decline_for_no_capacity_marks_the_service_at_capacity(client, cases, linked, rows) -> None:
    await cases.consent(linked.referral_id, linked.shelter_org)
    service_referral_id = (await refer(client, linked.referral_id, linked.shelter, "housing")).json()[
        "service_referral_id"
    ]

    declined = await status(client, service_referral_id, "declined", "no_capacity")

    assert declined.status_code == 200
    assert declined.json()["history"][-1]["reason"] == "no_capacity"
    suggestions = (await client.get(f"/v1/cases/{linked.referral_id}/suggestions")).json()["suggestions"]
    # housing is the more urgent need, but the full shelter now comes after the clinic with room
    assert [(s["name"], s["at_capacity"]) for s in suggestions] == [("Clinic", False), ("Shelter", True)]
    marks = await rows(events, events.c.stream_id == ServiceCapacity.stream_id(linked.shelter))
    assert [(m["data"]["at_capacity"], m["data"]["service_referral_id"]) for m in marks] == [
        (True, service_referral_id)
    ]


async def test_a_case_lists_its_service_referrals_oldest_first(client, cases, linked) -> None:
    await cases.consent(linked.referral_id, linked.shelter_org, linked.clinic_org, part2=True)
    first = (await refer(client, linked.referral_id, linked.shelter, "housing")).json()
    second = (await refer(client, linked.referral_id, linked.clinic, "substance_use_treatment")).json()

    listed = await client.get("/v1/service-referrals", params={"referral_id": str(linked.referral_id)})

    assert listed.status_code == 200
    assert [i["service_referral_id"] for i in listed.json()["items"]] == [
        first["service_referral_id"],
        second["service_referral_id"],
    ]


async def test_another_agencys_case_and_its_referrals_do_not_exist(client, cases, linked, bearer) -> None:
    await cases.consent(linked.referral_id, linked.shelter_org)
    service_referral_id = (await refer(client, linked.referral_id, linked.shelter, "housing")).json()[
        "service_referral_id"
    ]
    other = bearer(agency="albany-lead", subject="cm-albany")

    assert (await refer(client, linked.referral_id, linked.shelter, "housing", **other)).status_code == 404
    assert (await client.get(f"/v1/service-referrals/{service_referral_id}", headers=other)).status_code == 404
    listed = await client.get("/v1/service-referrals", params={"referral_id": str(linked.referral_id)}, headers=other)
    assert listed.status_code == 404
    moved = await client.post(
        f"/v1/service-referrals/{service_referral_id}/status", json={"status": "accepted"}, headers=other
    )
    assert moved.status_code == 404
    assert (await refer(client, uuid4(), linked.shelter, "housing")).status_code == 404


async def test_a_closed_case_refers_nobody_until_reopened(client, cases, linked) -> None:
    await cases.consent(linked.referral_id, linked.shelter_org)
    await cases.close(linked.referral_id)

    closed = await refer(client, linked.referral_id, linked.shelter, "housing")
    assert closed.status_code == 409 and closed.json()["current_state"] == "closed"

    await cases.reopen(linked.referral_id)
    assert (await refer(client, linked.referral_id, linked.shelter, "housing")).status_code == 201


async def test_an_idempotency_key_makes_a_retry_return_the_first_referral(client, cases, linked, rows) -> None:
    await cases.consent(linked.referral_id, linked.shelter_org)

    first = await refer(client, linked.referral_id, linked.shelter, "housing", **{"Idempotency-Key": "k-1"})
    again = await refer(client, linked.referral_id, linked.shelter, "housing", **{"Idempotency-Key": "k-1"})
    other = await refer(
        client, linked.referral_id, linked.clinic, "substance_use_treatment", **{"Idempotency-Key": "k-1"}
    )

    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert other.status_code == 409
    assert len(await rows(outbox)) == 1


async def test_reads_are_audited_and_program_managers_read_the_trail(client, cases, linked, bearer) -> None:
    await cases.consent(linked.referral_id, linked.shelter_org)
    made = (await refer(client, linked.referral_id, linked.shelter, "housing")).json()
    await client.get(f"/v1/service-referrals/{made['service_referral_id']}", headers={"X-Divert-Purpose": "follow-up"})

    trail = await client.get(
        "/v1/audit", params={"referral_id": str(linked.referral_id)}, headers=bearer("program_manager")
    )

    assert trail.status_code == 200, trail.text
    assert [(e["action"], e["what"], e["purpose"]) for e in trail.json()["entries"]] == [
        ("write", "ServiceReferralMade", None),
        ("read", "service referral", "follow-up"),
    ]
    elsewhere = bearer("program_manager", jurisdiction="albany")
    assert (
        await client.get("/v1/audit", params={"referral_id": str(linked.referral_id)}, headers=elsewhere)
    ).status_code == 404


async def test_capacity_is_marked_by_case_and_program_managers_of_its_jurisdictions(
    client, catalogue, bearer, rows
) -> None:
    shelter = await catalogue.add("Shelter", "housing")
    url = f"/v1/services/{shelter}/capacity"

    full = await client.put(url, json={"at_capacity": True})
    again = await client.put(url, json={"at_capacity": True})
    room = await client.put(url, json={"at_capacity": False}, headers=bearer("program_manager", subject="pm-1"))

    assert full.status_code == again.status_code == room.status_code == 200
    assert (full.json()["at_capacity"], room.json()["at_capacity"], room.json()["marked_by"]) == (True, False, "pm-1")
    assert (
        len(await rows(events, events.c.stream_id == ServiceCapacity.stream_id(shelter))) == 2
    )  # the repeat recorded nothing
    assert (await client.put(url, json={"at_capacity": True}, headers=bearer(agency="albany-lead"))).status_code == 403
    elsewhere = bearer("program_manager", jurisdiction="albany")
    assert (await client.put(url, json={"at_capacity": True}, headers=elsewhere)).status_code == 403
    assert (await client.put(url, json={"at_capacity": True}, headers=bearer("officer"))).status_code == 403
    assert (await client.put(f"/v1/services/{uuid4()}/capacity", json={"at_capacity": True})).status_code == 404
    assert (await client.put(url, json={"at_capacity": "yes"})).status_code == 422


async def test_made_and_changed_events_reach_the_topic(
    client, cases, linked, directory: Directory, kafka_bootstrap: str
) -> None:
    await cases.consent(linked.referral_id, linked.shelter_org)
    service_referral_id = (await refer(client, linked.referral_id, linked.shelter, "housing")).json()[
        "service_referral_id"
    ]
    await status(client, service_referral_id, "accepted")
    await ensure_topics(kafka_bootstrap, [DIRECTORY])
    producer = create_producer(kafka_bootstrap, "directory-test-relay")
    await producer.start()
    try:
        assert await OutboxRelay(directory.sessions, producer).publish_pending() == 2
    finally:
        await producer.stop()

    published = await records_keyed(kafka_bootstrap, DIRECTORY.name, str(linked.referral_id), 2)

    assert [dict(r.headers)["ce_type"].decode() for r in published] == [
        ServiceReferralMade.event_type,
        ServiceReferralStatusChanged.event_type,
    ]
    assert {dict(r.headers)["ce_source"] for r in published} == {b"/divert/directory"}
