"""`Idempotency-Key` on the case lifecycle, over real SQLite and PostgreSQL: a retry records nothing
again and gets the first status with the case (or consent) as it stands now; a key keeps the
case's or consent's id and the status, never the person's name, phone number or needs (42 CFR
Part 2 ones included); and migration 0005 rewrites the bodies keys kept before it. Fixtures come
from conftest.py."""

import json
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text

from divert_assessment.bootstrap import MIGRATIONS, Assessment
from divert_assessment.domain.case import Case
from divert_contracts.referrals import Subject
from divert_platform.clock import utcnow
from divert_platform.schema import events
from divert_platform.testing import migrate_to

PERSON = Subject(  # distinctive values, to be looked for in the stored keys
    given_name="Quillon",
    family_name="Marchbanks-Zed",
    date_of_birth=date(1977, 7, 7),
    rms_person_id="P-MARK-4471",
    phone="+12065559123",
)
PERSONAL = ("Quillon", "Marchbanks-Zed", "1977-07-07", "P-MARK-4471", "+12065559123")


def assessment_body(*needs: str) -> dict[str, Any]:
    return {
        "completed_at": (utcnow() - timedelta(minutes=5)).isoformat(),
        "case_manager_id": "cm-7",
        "needs": [{"domain": need, "priority": rank} for rank, need in enumerate(needs, 1)],
    }


def consent_body() -> dict[str, Any]:
    return {
        "parties": ["demo-health-clinic"],
        "purpose": "care_coordination",
        "scope": "assessment_needs",
        "part2": True,
        "expires_at": (utcnow() + timedelta(days=90)).isoformat(),
    }


def contact_body() -> dict[str, Any]:
    return {"at": (utcnow() - timedelta(minutes=1)).isoformat(), "method": "phone", "outcome": "made"}


async def stored_events(rows, referral_id: Any, event_type: str) -> int:
    stream = Case.stream_id(referral_id)
    return len(await rows(events, events.c.stream_id == stream, events.c.event_type == event_type))


async def stored_keys(assessment: Assessment) -> list[dict[str, Any]]:
    """Every row of `idempotency_keys`, every column, as the database holds it."""
    async with assessment.engine.connect() as connection:
        return [dict(row._mapping) for row in await connection.execute(text("SELECT * FROM idempotency_keys"))]


async def test_a_retried_command_records_nothing_again_and_answers_with_the_case_as_it_stands(
    client, open_case, rows
) -> None:
    case = f"/v1/cases/{(accepted := await open_case()).referral_id}"
    keyed = {"Idempotency-Key": "contact-1"}
    first = await client.post(f"{case}/contacts", json=(contact := contact_body()), headers=keyed)
    assert first.status_code == 201, first.text
    assert (await client.post(f"{case}/manager", json={"case_manager_id": "cm-9"})).status_code == 200

    again = await client.post(f"{case}/contacts", json=contact, headers=keyed)

    assert again.status_code == 201
    assert (first.json()["case_manager_id"], again.json()["case_manager_id"]) == (None, "cm-9")  # read again
    assert again.json()["contacts_attempted"] == first.json()["contacts_attempted"] == 1
    assert await stored_events(rows, accepted.referral_id, "ContactRecorded") == 1


async def test_a_retried_consent_records_nothing_again_and_answers_with_the_consent_as_it_stands(
    client, open_case, rows
) -> None:
    case = f"/v1/cases/{(accepted := await open_case()).referral_id}"
    keyed = {"Idempotency-Key": "consent-1"}
    first = await client.post(f"{case}/consents", json=(consent := consent_body()), headers=keyed)
    assert first.status_code == 201, first.text
    revoked = await client.post(f"{case}/consents/{first.json()['consent_id']}/revocation")
    assert revoked.status_code == 200, revoked.text

    again = await client.post(f"{case}/consents", json=consent, headers=keyed)

    assert again.status_code == 201
    assert again.json()["consent_id"] == first.json()["consent_id"]
    assert (first.json()["active"], again.json()["active"]) == (True, False)
    assert again.json()["revoked_at"] is not None
    assert await stored_events(rows, accepted.referral_id, "ConsentRecorded") == 1


async def test_a_key_keeps_the_status_and_ids_and_nothing_of_the_case(client, open_case, assessment) -> None:
    referral_id = (await open_case(subject=PERSON)).referral_id
    case = f"/v1/cases/{referral_id}"
    assessed = await client.post(
        f"{case}/assessment",
        json=assessment_body("substance_use_treatment", "housing"),
        headers={"Idempotency-Key": "a"},
    )
    assert assessed.status_code == 201, assessed.text
    assert assessed.json()["subject"]["given_name"] == "Quillon"  # the answer has them; the key must not
    consented = await client.post(f"{case}/consents", json=consent_body(), headers={"Idempotency-Key": "c"})
    assert consented.status_code == 201, consented.text

    rows = await stored_keys(assessment)

    assert sorted(((row["status_code"], row["response"]) for row in rows), key=str) == sorted(
        [
            (201, json.dumps({"referral_id": str(referral_id)})),
            (201, json.dumps({"consent_id": consented.json()["consent_id"]})),
        ],
        key=str,
    )
    dump = json.dumps(rows, default=str)
    looked_for = (*PERSONAL, "substance_use_treatment", "housing", "demo-health-clinic", "part2")
    assert [value for value in looked_for if value in dump] == []


async def test_0005_rewrites_bodies_kept_before_it_to_ids_and_the_keys_still_guard(
    client, open_case, assessment, rows, database_url
) -> None:
    referral_id = (await open_case(subject=PERSON)).referral_id
    case = f"/v1/cases/{referral_id}"
    body, consent = assessment_body("substance_use_treatment"), consent_body()
    assessed = await client.post(f"{case}/assessment", json=body, headers={"Idempotency-Key": "a"})
    consented = await client.post(f"{case}/consents", json=consent, headers={"Idempotency-Key": "c"})
    assert (assessed.status_code, consented.status_code) == (201, 201)
    case_ids = json.dumps({"referral_id": str(referral_id)})
    consent_ids = json.dumps({"consent_id": consented.json()["consent_id"]})
    await migrate_to(database_url, MIGRATIONS, "downgrade", "0004")
    async with assessment.engine.begin() as connection:  # the keys as releases before 0005 kept them
        for ids, answer in ((case_ids, assessed), (consent_ids, consented)):
            await connection.execute(
                text("UPDATE idempotency_keys SET response = :body WHERE response = :ids"),
                {"body": json.dumps(answer.json()), "ids": ids},
            )
    assert "Quillon" in json.dumps(await stored_keys(assessment), default=str)

    await migrate_to(database_url, MIGRATIONS, "upgrade", "head")

    rows_now = await stored_keys(assessment)
    assert sorted((row["status_code"], row["response"]) for row in rows_now) == sorted(
        [(201, case_ids), (201, consent_ids)]
    )
    assert [value for value in PERSONAL if value in json.dumps(rows_now, default=str)] == []
    again = await client.post(f"{case}/assessment", json=body, headers={"Idempotency-Key": "a"})
    consent_again = await client.post(f"{case}/consents", json=consent, headers={"Idempotency-Key": "c"})
    assert (again.status_code, consent_again.status_code) == (201, 201)
    assert again.json()["consents"] == [consented.json()]  # the case as it stands: with its consent
    assert consent_again.json() == consented.json()
    assert await stored_events(rows, referral_id, "AssessmentCompleted") == 1
    assert await stored_events(rows, referral_id, "ConsentRecorded") == 1
