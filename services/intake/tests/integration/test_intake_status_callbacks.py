"""Status callbacks are queued with the change they report (SQLite and PostgreSQL): one message
per subscribed endpoint, in the change's own transaction, numbered in the referral's order, and
never for an agency, jurisdiction or type the endpoint did not subscribe to."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import select

from divert_contracts.milestones import CaseAssessedMilestone, CaseClosedMilestone, CaseEnrolledMilestone
from divert_intake.bootstrap import Intake
from divert_intake.service_layer.status_callbacks import CALLBACK_TYPES, PROSECUTION_TYPES
from divert_platform.callbacks import registry
from divert_platform.callbacks.schema import callback_messages
from divert_platform.clock import utcnow

from .test_intake_consumer import RecordingClock, deliver


async def endpoint(intake: Intake, *, audience: str, agency: str | None, jurisdiction: str, types: Any) -> str:
    async with intake.sessions() as session, session.begin():
        registered = await registry.register(
            session,
            intake.settings.callback_box,
            audience=audience,
            agency=agency,
            jurisdiction=jurisdiction,
            url="https://rms.example.org/divert",
            event_types=types,
            description=None,
            actor="test",
            now=utcnow(),
        )
    return str(registered.endpoint["endpoint_id"])


async def messages_of(intake: Intake, endpoint_id: str) -> list[dict[str, Any]]:
    async with intake.sessions() as session:
        rows = await session.execute(
            select(callback_messages)
            .where(callback_messages.c.endpoint_id == endpoint_id)
            .order_by(callback_messages.c.sequence)
        )
        return [dict(row._mapping) for row in rows]


async def test_each_change_of_an_agencys_referral_is_queued_once_for_its_endpoints_in_order(
    intake: Intake, client: httpx.AsyncClient, officer: dict[str, str], referral_body: dict[str, Any]
) -> None:
    spd = await endpoint(intake, audience="agency", agency="SPD", jurisdiction="king-county", types=CALLBACK_TYPES)
    spd_lapses_only = await endpoint(
        intake, audience="agency", agency="SPD", jurisdiction="king-county", types=["referral.lapsed"]
    )
    other_agency = await endpoint(
        intake, audience="agency", agency="KCSO", jurisdiction="king-county", types=CALLBACK_TYPES
    )
    other_jurisdiction = await endpoint(
        intake, audience="agency", agency="SPD", jurisdiction="albany", types=CALLBACK_TYPES
    )
    prosecutor = await endpoint(
        intake, audience="jurisdiction", agency=None, jurisdiction="king-county", types=PROSECUTION_TYPES
    )

    created = (await client.post("/v1/referrals", json=referral_body, headers=officer)).json()
    referral_id, due = UUID(created["referral_id"]), datetime.fromisoformat(created["assessment_due_by"])
    clock = RecordingClock()
    for number, event in enumerate(
        (
            CaseAssessedMilestone(
                referral_id=referral_id, jurisdiction="king-county", completed_at=due - timedelta(days=1), on_time=True
            ),
            CaseEnrolledMilestone(referral_id=referral_id, jurisdiction="king-county", enrolled_at=due),
            CaseClosedMilestone(referral_id=referral_id, jurisdiction="king-county", closed_at=due + timedelta(days=9)),
            # the same news again (a redelivered record under a new id): the referral notes it once
            CaseClosedMilestone(referral_id=referral_id, jurisdiction="king-county", closed_at=due + timedelta(days=9)),
        )
    ):
        await deliver(intake, clock, event, f"ce-{number}")
    withdrawn = await client.post(
        f"/v1/referrals/{referral_id}/withdrawal", json={"reason": "charges dropped"}, headers=officer
    )
    assert withdrawn.status_code == 200, withdrawn.text

    sent = await messages_of(intake, spd)
    assert [m["event_type"] for m in sent] == [
        "referral.accepted",
        "referral.assessed",
        "referral.enrolled",
        "referral.closed",
        "referral.withdrawn",
    ]
    assert [m["sequence"] for m in sent] == sorted({m["sequence"] for m in sent})
    assert {m["subject"] for m in sent} == {str(referral_id)}
    assert all(m["status"] == "pending" and m["attempts"] == 0 for m in sent)
    closed = sent[3]["payload"]
    assert closed["type"] == "referral.closed" and closed["data"]["rms"] == {
        "agency": "SPD",
        "case_number": "2026-334455",
    }
    assert [m["event_type"] for m in await messages_of(intake, prosecutor)] == ["referral.withdrawn"]
    assert await messages_of(intake, spd_lapses_only) == []
    assert await messages_of(intake, other_agency) == []
    assert await messages_of(intake, other_jurisdiction) == []
    view = (await client.get(f"/v1/referrals/{referral_id}", headers=officer)).json()
    assert view["case_closed"] is True and view["status"] == "withdrawn"


async def test_a_change_that_is_refused_queues_no_callback(
    intake: Intake, client: httpx.AsyncClient, officer: dict[str, str], referral_body: dict[str, Any]
) -> None:
    spd = await endpoint(intake, audience="agency", agency="SPD", jurisdiction="king-county", types=CALLBACK_TYPES)
    first = await client.post("/v1/referrals", json=referral_body, headers=officer)
    duplicate = await client.post("/v1/referrals", json=referral_body, headers=officer)

    assert (first.status_code, duplicate.status_code) == (201, 409)
    assert [m["subject"] for m in await messages_of(intake, spd)] == [first.json()["referral_id"]]


async def test_a_disabled_endpoint_still_gets_its_messages_held_for_when_it_is_enabled(
    intake: Intake, client: httpx.AsyncClient, officer: dict[str, str], referral_body: dict[str, Any]
) -> None:
    spd = await endpoint(intake, audience="agency", agency="SPD", jurisdiction="king-county", types=CALLBACK_TYPES)
    async with intake.sessions() as session, session.begin():
        await registry.disable(session, spd, reason="maintenance", actor="test", now=datetime.now(UTC))

    await client.post("/v1/referrals", json=referral_body, headers=officer)

    [held] = await messages_of(intake, spd)
    assert (held["event_type"], held["status"]) == ("referral.accepted", "pending")
