"""`Idempotency-Key` on intake's routes, over real SQLite and PostgreSQL: a retry makes no second
referral, withdrawal or extension and gets the first status with the referral as it stands now; a
key keeps the referral's id and the status, never what the officer sent about the person; and
migration 0006 rewrites the bodies keys kept before it. Fixtures come from conftest.py."""

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from divert_intake.bootstrap import MIGRATIONS, Intake
from divert_platform.clock import utcnow
from divert_platform.schema import events
from divert_platform.testing import migrate_to

Headers = dict[str, str]
Token = Callable[..., Headers]
PERSON = {  # distinctive values, to be looked for in the stored keys
    "given_name": "Quillon",
    "family_name": "Marchbanks-Zed",
    "date_of_birth": "1977-07-07",
    "rms_person_id": "P-MARK-4471",
    "phone": "+12065559123",
}


def referred_yesterday(referral: dict[str, Any]) -> dict[str, Any]:
    """`referral` referred a day ago, so its deadline is pending and can be extended whatever the date.

    Into Albany: King County's versions from 2026-12-06 on hold every referral for its approver, so
    a King County referral of yesterday has no deadline yet. Albany has the same 30-day window and
    no gate (the gate's own retries are tested in test_approvals_api.py)."""
    return {**referral, "jurisdiction": "albany", "referred_at": (utcnow() - timedelta(days=1)).isoformat()}


@pytest.fixture
def officer(token: Token) -> Headers:
    """An SPD officer referring into Albany (this module's referrals)."""
    return token("officer", subject="officer-7781", agency="SPD", jurisdiction="albany")


@pytest.fixture
def manager(token: Token) -> Headers:
    """Albany's program manager, who may extend a deadline."""
    return token("program_manager", subject="pm-albany", jurisdiction="albany")


def later_than(due: str, days: int) -> dict[str, str]:
    return {"assessment_due_by": (datetime.fromisoformat(due) + timedelta(days=days)).isoformat(), "reason": "x"}


async def stored_events(intake: Intake, event_type: str) -> int:
    async with intake.sessions() as session:
        return await session.scalar(select(func.count()).select_from(events).where(events.c.event_type == event_type))


async def stored_keys(intake: Intake) -> list[dict[str, Any]]:
    """Every row of `idempotency_keys`, every column, as the database holds it."""
    async with intake.engine.connect() as connection:
        return [dict(row._mapping) for row in await connection.execute(text("SELECT * FROM idempotency_keys"))]


async def test_a_retried_submission_makes_one_referral_and_answers_with_it_as_it_stands(
    client: httpx.AsyncClient, intake: Intake, officer: Headers, manager: Headers, referral_body: dict[str, Any]
) -> None:
    referral, keyed = referred_yesterday(referral_body), {**officer, "Idempotency-Key": "rms-1"}
    first = await client.post("/v1/referrals", json=referral, headers=keyed)
    assert first.status_code == 201, first.text
    referral_id = first.json()["referral_id"]
    extension = later_than(first.json()["assessment_due_by"], 7)
    extended = await client.post(f"/v1/referrals/{referral_id}/extension", json=extension, headers=manager)
    assert extended.status_code == 200, extended.text

    again = await client.post("/v1/referrals", json=referral, headers=keyed)

    assert again.status_code == 201
    assert again.json() == {**first.json(), "assessment_due_by": extended.json()["assessment_due_by"]}
    assert again.json()["assessment_due_by"] != first.json()["assessment_due_by"]  # read again, not kept
    assert await stored_events(intake, "ReferralAccepted") == 1


async def test_a_retried_extension_or_withdrawal_changes_nothing_again_and_answers_with_the_status_now(
    client: httpx.AsyncClient, intake: Intake, officer: Headers, manager: Headers, referral_body: dict[str, Any]
) -> None:
    submitted = (await client.post("/v1/referrals", json=referred_yesterday(referral_body), headers=officer)).json()
    url, due = f"/v1/referrals/{submitted['referral_id']}", submitted["assessment_due_by"]
    week, fortnight = later_than(due, 7), later_than(due, 14)
    first = await client.post(f"{url}/extension", json=week, headers={**manager, "Idempotency-Key": "ext-1"})
    second = await client.post(f"{url}/extension", json=fortnight, headers={**manager, "Idempotency-Key": "ext-2"})
    first_again = await client.post(f"{url}/extension", json=week, headers={**manager, "Idempotency-Key": "ext-1"})

    assert [r.status_code for r in (first, second, first_again)] == [200, 200, 200]
    assert first_again.json() == second.json() != first.json()  # the later due time, as it stands
    assert await stored_events(intake, "DeadlineExtended") == 2

    keyed = {**officer, "Idempotency-Key": "wd-1"}
    withdrawn = await client.post(f"{url}/withdrawal", json={"reason": "made in error"}, headers=keyed)
    withdrawn_again = await client.post(f"{url}/withdrawal", json={"reason": "made in error"}, headers=keyed)
    unkeyed = await client.post(f"{url}/withdrawal", json={"reason": "made in error"}, headers=officer)

    assert (withdrawn.status_code, withdrawn_again.status_code, unkeyed.status_code) == (200, 200, 409)
    assert withdrawn_again.json() == withdrawn.json() and withdrawn.json()["status"] == "withdrawn"
    assert await stored_events(intake, "ReferralWithdrawn") == 1


async def test_a_key_keeps_the_status_and_the_referral_id_and_nothing_about_the_person(
    client: httpx.AsyncClient, intake: Intake, officer: Headers, referral_body: dict[str, Any]
) -> None:
    referral = referred_yesterday(referral_body) | {"subject": PERSON}
    first = await client.post("/v1/referrals", json=referral, headers={**officer, "Idempotency-Key": "rms-1"})
    assert first.status_code == 201, first.text
    referral_id = first.json()["referral_id"]
    url = f"/v1/referrals/{referral_id}/withdrawal"
    withdrawal = await client.post(url, json={"reason": "Quillon moved"}, headers={**officer, "Idempotency-Key": "w"})
    assert withdrawal.status_code == 200, withdrawal.text

    rows = await stored_keys(intake)

    assert sorted((row["status_code"], json.loads(row["response"])) for row in rows) == [
        (200, {"referral_id": referral_id}),
        (201, {"referral_id": referral_id}),
    ]
    dump = json.dumps(rows, default=str)
    assert [value for value in (*PERSON.values(), "Quillon", "2026-334455", "Belltown") if value in dump] == []


async def test_0006_rewrites_a_body_kept_before_it_to_the_id_and_the_key_still_guards(
    client: httpx.AsyncClient, intake: Intake, officer: Headers, database_url: str, referral_body: dict[str, Any]
) -> None:
    referral, keyed = referred_yesterday(referral_body), {**officer, "Idempotency-Key": "rms-old"}
    first = await client.post("/v1/referrals", json=referral, headers=keyed)
    assert first.status_code == 201, first.text
    ids = json.dumps({"referral_id": first.json()["referral_id"]})
    await migrate_to(database_url, MIGRATIONS, "downgrade", "0005")
    async with intake.engine.begin() as connection:  # the key as releases before 0006 kept it: the whole body
        await connection.execute(
            text("UPDATE idempotency_keys SET response = :body WHERE response = :ids"),
            {"body": json.dumps(first.json()), "ids": ids},
        )
    assert [json.loads(row["response"]) for row in await stored_keys(intake)] == [first.json()]

    await migrate_to(database_url, MIGRATIONS, "upgrade", "head")

    [row] = await stored_keys(intake)
    assert (row["status_code"], row["response"]) == (201, ids)
    again = await client.post("/v1/referrals", json=referral, headers=keyed)
    assert (again.status_code, again.json()) == (201, first.json())
    assert await stored_events(intake, "ReferralAccepted") == 1
