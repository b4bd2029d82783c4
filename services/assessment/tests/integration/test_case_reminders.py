"""Reminders of the assessment's due time in the caseload: intake's acceptance (with its reminder
times), due-soon reminders and extensions, applied by the consumer's handlers, shown in
`GET /v1/cases` and the case view; on SQLite and PostgreSQL, and through a real broker."""

import asyncio
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import column, insert, inspect, select, table
from sqlalchemy.ext.asyncio import create_async_engine

from divert_assessment.adapters.tables import cases
from divert_assessment.bootstrap import MIGRATIONS
from divert_assessment.domain.case import Case
from divert_assessment.entrypoints.consumer import GROUP_ID, consumer_handlers
from divert_assessment.entrypoints.views import next_reminder_at
from divert_contracts.cases import CaseOpened
from divert_contracts.milestones import CaseOpenedMilestone
from divert_contracts.referrals import ReferralAccepted, ReferralAssessmentDueSoon, ReferralDeadlineExtended
from divert_contracts.topics import CASE_MILESTONES, CASES, REFERRALS
from divert_platform.cause import caused_by_event
from divert_platform.clock import utcnow
from divert_platform.consumer import ConsumerRunner
from divert_platform.kafka import create_producer, ensure_topics
from divert_platform.schema import events, inbox, outbox
from divert_platform.testing import migrate, migrate_to, produce, records_keyed

from .conftest import delivered, referral_accepted
from .test_read_models import rebuild, same_rows, snapshot


@pytest.fixture
def react(assessment):
    """Apply any of intake's events as the consumer does: its handler, caused by it, committed."""
    handlers = consumer_handlers(assessment)

    async def apply(event: Any) -> None:
        message = delivered(event)
        unit = assessment.unit_of_work()
        unit.cause = caused_by_event(message.source, message.id, message.time)
        async with unit as uow:
            await handlers[type(event)](event, uow)
            await uow.commit()

    return apply


def reminded_referral(due_in: timedelta = timedelta(days=2, minutes=-1)) -> ReferralAccepted:
    """An arrest diversion due `due_in` from now, reminded 2 days and 1 day before: by default the
    first reminder fell a minute ago, the second is a day away."""
    now = utcnow()
    due = now + due_in
    reminders = (due - timedelta(days=2), due - timedelta(days=1))
    return referral_accepted(
        referred_at=now - timedelta(hours=1), assessment_due_by=due, assessment_reminders_at=reminders
    )


def due_soon(accepted: ReferralAccepted, index: int = 0) -> ReferralAssessmentDueSoon:
    """The reminder intake raises at `accepted`'s `index`-th reminder time."""
    assert accepted.assessment_due_by is not None
    reminders = accepted.assessment_reminders_at
    return ReferralAssessmentDueSoon(
        referral_id=accepted.referral_id,
        jurisdiction=accepted.jurisdiction,
        assessment_due_by=accepted.assessment_due_by,
        reminded_at=reminders[index],
        days_before=(accepted.assessment_due_by - reminders[index]).days,
        next_reminder_at=reminders[index + 1] if index + 1 < len(reminders) else None,
    )


def extension(accepted: ReferralAccepted, by: timedelta) -> ReferralDeadlineExtended:
    assert accepted.assessment_due_by is not None
    due = accepted.assessment_due_by + by
    return ReferralDeadlineExtended(
        referral_id=accepted.referral_id,
        jurisdiction=accepted.jurisdiction,
        previous_due_by=accepted.assessment_due_by,
        assessment_due_by=due,
        reason="the person is in hospital",
        extended_at=utcnow(),
        assessment_reminders_at=(due - timedelta(days=2), due - timedelta(days=1)),
    )


def at(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


async def view(client, referral_id) -> dict[str, Any]:
    response = await client.get(f"/v1/cases/{referral_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def listed(client, **params) -> list[dict[str, Any]]:
    response = await client.get("/v1/cases", params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_a_due_soon_reminder_marks_the_case_in_the_caseload_and_its_view(client, react) -> None:
    accepted = reminded_referral()
    await react(accepted)
    first, second = accepted.assessment_reminders_at

    before = await view(client, accepted.referral_id)
    assert at(before["next_reminder_at"]) == second  # the first one's time is already past
    assert before["due_soon"] is False and before["last_reminder_at"] is None

    await react(due_soon(accepted))

    case = await view(client, accepted.referral_id)
    [summary] = [item for item in await listed(client) if item["referral_id"] == str(accepted.referral_id)]
    for shown in (case, summary):
        assert shown["due_soon"] is True
        assert at(shown["last_reminder_at"]) == first and shown["reminded_days_before"] == 2
        assert at(shown["next_reminder_at"]) == second
    assert case["timeline"][-1]["event"] == "assessment_reminded"
    assert at(case["timeline"][-1]["at"]) == first and case["timeline"][-1]["days_before"] == 2


async def test_due_soon_lists_the_reminded_cases_soonest_due_first(client, react) -> None:
    later = reminded_referral(timedelta(days=2, hours=5))
    sooner = reminded_referral(timedelta(days=2, hours=1))
    not_reminded = reminded_referral()
    for accepted in (later, sooner, not_reminded):
        await react(accepted)
    await react(due_soon(later))
    await react(due_soon(sooner))

    reminded = await listed(client, due_soon="true")
    others = await listed(client, due_soon="false")

    assert [item["referral_id"] for item in reminded] == [str(sooner.referral_id), str(later.referral_id)]
    assert str(not_reminded.referral_id) in {item["referral_id"] for item in others}
    assert not {str(later.referral_id), str(sooner.referral_id)} & {item["referral_id"] for item in others}
    page = (await client.get("/v1/cases", params={"due_soon": "true", "limit": 1})).json()
    rest = await listed(client, due_soon="true", cursor=page["next_cursor"])
    assert [item["referral_id"] for item in page["items"] + rest] == [item["referral_id"] for item in reminded]


async def test_an_extension_moves_the_due_time_and_the_next_reminder_and_clears_the_mark(client, react) -> None:
    accepted = reminded_referral()
    await react(accepted)
    await react(due_soon(accepted))
    extended = extension(accepted, timedelta(days=3))

    await react(extended)

    case = await view(client, accepted.referral_id)
    assert at(case["assessment_due_by"]) == extended.assessment_due_by
    assert at(case["next_reminder_at"]) == extended.assessment_reminders_at[0]
    assert case["due_soon"] is False  # the reminder was of the earlier due time
    assert at(case["last_reminder_at"]) == accepted.assessment_reminders_at[0]
    assert case["timeline"][-1]["event"] == "assessment_deadline_extended"
    assert "hospital" not in str(case)
    assert await listed(client, due_soon="true") == []


async def test_the_assessment_is_judged_against_the_extended_due_time(client, react) -> None:
    accepted = referral_accepted(
        referred_at=utcnow() - timedelta(days=4), assessment_due_by=utcnow() - timedelta(days=1)
    )
    await react(accepted)
    await react(extension(accepted, timedelta(days=3)))

    body = {"completed_at": utcnow().isoformat(), "case_manager_id": "cm-7", "needs": []}
    response = await client.post(f"/v1/cases/{accepted.referral_id}/assessment", json=body)

    assert response.status_code == 201, response.text
    assert response.json()["assessment"]["on_time"] is True  # a day late for the due time first given


async def test_the_assessment_clears_the_next_reminder_and_the_mark(client, react) -> None:
    accepted = reminded_referral()
    await react(accepted)
    await react(due_soon(accepted))

    body = {"completed_at": utcnow().isoformat(), "case_manager_id": "cm-7", "needs": []}
    response = await client.post(f"/v1/cases/{accepted.referral_id}/assessment", json=body)
    assert response.status_code == 201, response.text
    # a reminder raised before intake stopped the deadline, arriving after the assessment
    await react(due_soon(accepted, 1))

    case = await view(client, accepted.referral_id)
    assert case["next_reminder_at"] is None and case["due_soon"] is False
    assert at(case["last_reminder_at"]) == accepted.assessment_reminders_at[0]  # the later one changed nothing
    assert [entry["event"] for entry in case["timeline"]].count("assessment_reminded") == 1
    assert await listed(client, due_soon="true") == []


async def test_a_rebuild_from_the_event_store_gives_the_same_reminder_columns(client, react, assessment) -> None:
    accepted, other = reminded_referral(), reminded_referral()
    for event in (accepted, other, due_soon(accepted), due_soon(other), extension(other, timedelta(days=1))):
        await react(event)
    before = await snapshot(assessment)

    await rebuild(assessment)

    after = await snapshot(assessment)
    same_rows(after, before)
    assert {(row["due_soon"], row["reminded_days_before"]) for row in after["cases"]} == {(True, 2), (False, 2)}
    assert all(len(row["assessment_reminders_at"]) == 2 for row in after["cases"])


async def test_reminders_through_a_real_broker_are_applied_once_and_none_is_dead_lettered(
    kafka_bootstrap, assessment, rows
) -> None:
    await ensure_topics(kafka_bootstrap, [REFERRALS])
    accepted = reminded_referral()
    reminder, repeated = due_soon(accepted), str(uuid4())
    orphan = due_soon(reminded_referral())  # a reminder of a referral this service has no case of
    orphan = orphan.model_copy(update={"referral_id": uuid4()})
    await produce(kafka_bootstrap, accepted, source="/divert/intake", event_ids=[str(uuid4())])
    # the same record twice (a redelivery), then the same reminder re-published under a new id
    await produce(kafka_bootstrap, reminder, source="/divert/intake", event_ids=[repeated, repeated, str(uuid4())])
    await produce(kafka_bootstrap, orphan, source="/divert/intake", event_ids=[str(uuid4())])
    records = await records_keyed(kafka_bootstrap, REFERRALS.name, accepted.partition_key, 4)
    records += await records_keyed(kafka_bootstrap, REFERRALS.name, orphan.partition_key, 1)

    dead_letters = create_producer(kafka_bootstrap, "assessment-test-dlq")
    await dead_letters.start()
    try:
        runner = ConsumerRunner(
            group_id=GROUP_ID,
            bootstrap=kafka_bootstrap,
            topics=[REFERRALS],
            handlers=consumer_handlers(assessment),
            unit_of_work=assessment.unit_of_work,
            dead_letters=dead_letters,
        )
        stop = asyncio.Event()
        stop.set()  # a handler failure (which would be dead-lettered) then raises here instead
        for record in records:
            await runner.handle(record, stop)
    finally:
        await dead_letters.stop()

    stored = await rows(events, events.c.stream_id == Case.stream_id(accepted.referral_id))
    assert [event["event_type"] for event in stored] == ["CaseOpened", "AssessmentReminded"]
    assert await rows(events, events.c.stream_id == Case.stream_id(orphan.referral_id)) == []
    [row] = await rows(cases, cases.c.referral_id == str(accepted.referral_id))
    assert row["due_soon"] is True and row["reminded_days_before"] == 2
    assert len(await rows(inbox, inbox.c.consumer == GROUP_ID)) == 4  # distinct CloudEvents ids, orphan included
    published = await rows(outbox, outbox.c.message_key == str(accepted.referral_id))
    # the opening's two events only: the reminder is told on no topic, the milestones least of all
    assert [(row["topic"], row["event_type"]) for row in published] == [
        (CASES.name, CaseOpened.event_type),
        (CASE_MILESTONES.name, CaseOpenedMilestone.event_type),
    ]


async def test_a_case_from_before_0006_is_not_due_soon_and_has_no_reminders_and_0006_downgrades(
    database_url,
) -> None:
    await migrate_to(database_url, MIGRATIONS, "upgrade", "0005")
    engine = create_async_engine(database_url)
    now = utcnow()
    row = {"referral_id": str(uuid4()), "status": "pending_assessment", "jurisdiction": "king-county"}
    row |= {"pathway": "arrest_diversion", "rms_agency": "SPD", "given_name": "Ana", "family_name": "Diaz"}
    row |= {"referred_at": now, "opened_at": now, "updated_at": now}
    cases_at_0005 = table("cases", *(column(name) for name in row))
    try:
        async with engine.begin() as connection:
            await connection.execute(insert(cases_at_0005).values(row))

        await migrate(database_url, MIGRATIONS)

        async with engine.connect() as connection:
            migrated = (await connection.execute(select(cases))).one()._mapping
        await migrate_to(database_url, MIGRATIONS, "downgrade", "0005")
        async with engine.connect() as connection:
            columns = await connection.run_sync(lambda sync: {c["name"] for c in inspect(sync).get_columns("cases")})
    finally:
        await engine.dispose()
    assert migrated["due_soon"] is False
    assert (migrated["assessment_reminders_at"], migrated["last_reminder_at"], migrated["reminded_days_before"]) == (
        None,
        None,
        None,
    )
    assert next_reminder_at(dict(migrated), now) is None
    assert set(row) < columns
    assert not {"due_soon", "last_reminder_at", "reminded_days_before", "assessment_reminders_at"} & columns
