"""`Idempotency-Key` on the directory's routes, over real SQLite and PostgreSQL: a retry makes no
second service referral, status change or capacity mark and gets the first status with the
resource as it stands now; a key keeps the resource's id and the status, never the person's need
(42 CFR Part 2 ones included) or the consent it was made under; and migration 0005 rewrites the
bodies keys kept before it. Fixtures come from conftest.py."""

import json
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import text

from divert_directory.bootstrap import MIGRATIONS, Directory
from divert_directory.domain.capacity import ServiceCapacity
from divert_directory.domain.service_referral import ServiceReferral
from divert_platform.schema import events
from divert_platform.testing import migrate_to


@pytest.fixture
async def clinic(catalogue, cases) -> tuple[UUID, UUID, UUID]:
    """A king-county case needing treatment (a Part 2 need), a clinic, and a Part 2 consent naming
    the clinic's organization: (referral id, clinic id, consent id)."""
    clinic = await catalogue.add("Clinic", "substance_use_treatment")
    referral_id = await cases.open("king-county", ("substance_use_treatment", 1))
    consent_id = await cases.consent(referral_id, await catalogue.organization_of(clinic), part2=True)
    return referral_id, clinic, consent_id


async def refer(client: httpx.AsyncClient, referral_id: UUID, service_id: UUID, key: str) -> httpx.Response:
    body = {"referral_id": str(referral_id), "service_id": str(service_id), "need": "substance_use_treatment"}
    return await client.post("/v1/service-referrals", json=body, headers={"Idempotency-Key": key})


async def move(client: httpx.AsyncClient, service_referral_id: str, new: str, key: str | None = None) -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    return await client.post(
        f"/v1/service-referrals/{service_referral_id}/status", json={"status": new}, headers=headers
    )


async def stored_events(rows, stream_id: str, event_type: str) -> int:
    return len(await rows(events, events.c.stream_id == stream_id, events.c.event_type == event_type))


async def stored_keys(directory: Directory) -> list[dict[str, Any]]:
    """Every row of `idempotency_keys`, every column, as the database holds it."""
    async with directory.engine.connect() as connection:
        return [dict(row._mapping) for row in await connection.execute(text("SELECT * FROM idempotency_keys"))]


async def test_a_retried_referral_makes_one_and_answers_with_it_as_it_stands(client, clinic, rows) -> None:
    referral_id, service_id, _ = clinic
    first = await refer(client, referral_id, service_id, "k-1")
    assert first.status_code == 201, first.text
    made = first.json()["service_referral_id"]
    assert (await move(client, made, "accepted")).status_code == 200

    again = await refer(client, referral_id, service_id, "k-1")

    assert again.status_code == 201
    assert (again.json()["service_referral_id"], first.json()["status"], again.json()["status"]) == (
        made,
        "sent",
        "accepted",
    )
    assert await stored_events(rows, ServiceReferral.stream_id(UUID(made)), "ServiceReferralMade") == 1


async def test_a_retried_status_change_or_capacity_mark_changes_nothing_again(client, clinic, bearer, rows) -> None:
    referral_id, service_id, _ = clinic
    made = (await refer(client, referral_id, service_id, "k-1")).json()["service_referral_id"]
    accepted = await move(client, made, "accepted", key="s-1")
    completed = await move(client, made, "completed")
    accepted_again = await move(client, made, "accepted", key="s-1")

    assert [r.status_code for r in (accepted, completed, accepted_again)] == [200, 200, 200]
    assert accepted_again.json() == completed.json() and completed.json()["status"] == "completed"
    assert await stored_events(rows, ServiceReferral.stream_id(UUID(made)), "ServiceReferralStatusChanged") == 2

    url = f"/v1/services/{service_id}/capacity"
    full = await client.put(url, json={"at_capacity": True}, headers={"Idempotency-Key": "cap-1"})
    room = await client.put(url, json={"at_capacity": False}, headers=bearer("program_manager", subject="pm-1"))
    full_again = await client.put(url, json={"at_capacity": True}, headers={"Idempotency-Key": "cap-1"})

    assert [r.status_code for r in (full, room, full_again)] == [200, 200, 200]
    assert full_again.json() == room.json() and room.json()["at_capacity"] is False  # as it stands
    assert len(await rows(events, events.c.stream_id == ServiceCapacity.stream_id(service_id))) == 2


async def test_a_key_keeps_the_status_and_ids_and_nothing_of_the_need_or_the_consent(client, clinic, directory) -> None:
    referral_id, service_id, consent_id = clinic
    made = await refer(client, referral_id, service_id, "k-1")
    assert made.status_code == 201 and made.json()["part2"] is True  # the answer has it; the key must not
    service_referral_id = made.json()["service_referral_id"]
    assert (await move(client, service_referral_id, "accepted", key="s-1")).status_code == 200

    rows = await stored_keys(directory)

    ids = json.dumps({"service_referral_id": service_referral_id})
    assert sorted((row["status_code"], row["response"]) for row in rows) == [(200, ids), (201, ids)]
    dump = json.dumps(rows, default=str)
    looked_for = ("substance_use_treatment", "part2", str(consent_id), made.json()["organization_id"])
    assert [value for value in looked_for if value in dump] == []


async def test_0005_rewrites_bodies_kept_before_it_to_ids_and_the_keys_still_guard(
    client, clinic, directory, rows, database_url
) -> None:
    referral_id, service_id, consent_id = clinic
    made = await refer(client, referral_id, service_id, "k-old")
    capacity = f"/v1/services/{service_id}/capacity"
    full = await client.put(capacity, json={"at_capacity": True}, headers={"Idempotency-Key": "cap-old"})
    assert (made.status_code, full.status_code) == (201, 200)
    made_ids = json.dumps({"service_referral_id": made.json()["service_referral_id"]})
    full_ids = json.dumps({"service_id": str(service_id)})
    await migrate_to(database_url, MIGRATIONS, "downgrade", "0004")
    async with directory.engine.begin() as connection:  # the keys as releases before 0005 kept them
        for ids, answer in ((made_ids, made), (full_ids, full)):
            await connection.execute(
                text("UPDATE idempotency_keys SET response = :body WHERE response = :ids"),
                {"body": json.dumps(answer.json()), "ids": ids},
            )
    assert str(consent_id) in json.dumps(await stored_keys(directory), default=str)

    await migrate_to(database_url, MIGRATIONS, "upgrade", "head")

    rows_now = await stored_keys(directory)
    assert sorted((row["status_code"], row["response"]) for row in rows_now) == [(200, full_ids), (201, made_ids)]
    assert "substance_use_treatment" not in json.dumps(rows_now, default=str)
    again = await refer(client, referral_id, service_id, "k-old")
    full_again = await client.put(capacity, json={"at_capacity": True}, headers={"Idempotency-Key": "cap-old"})
    assert (again.status_code, again.json()) == (201, made.json())
    assert (full_again.status_code, full_again.json()) == (200, full.json())
    stream = ServiceReferral.stream_id(UUID(made.json()["service_referral_id"]))
    assert await stored_events(rows, stream, "ServiceReferralMade") == 1
    assert len(await rows(events, events.c.stream_id == ServiceCapacity.stream_id(service_id))) == 1
