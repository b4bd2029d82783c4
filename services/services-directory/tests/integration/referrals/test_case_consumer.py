"""The directory's consumer of `divert.cases` against a real broker, through the platform's runner
(inbox and dead letters included): duplicates are ignored, late and out-of-order events still
leave the right facts, and an event that can never apply is dead-lettered."""

import asyncio
from datetime import timedelta
from uuid import UUID, uuid4

from divert_contracts.base import IntegrationEvent
from divert_contracts.cases import (
    CaseAssessmentCompleted,
    CaseClosed,
    CaseConsentRecorded,
    CaseConsentRevoked,
    CaseOpened,
    CaseReopened,
    Need,
)
from divert_contracts.topics import CASES
from divert_directory.adapters.case_facts import find_case_facts, find_consents
from divert_directory.adapters.referral_tables import directory_cases
from divert_directory.bootstrap import Directory
from divert_directory.entrypoints.consumer import GROUP_ID, case_handlers
from divert_platform.cause import caused_by_event
from divert_platform.clock import utcnow
from divert_platform.consumer import ConsumerRunner
from divert_platform.kafka import create_producer, ensure_topics
from divert_platform.schema import inbox
from divert_platform.testing import produce, records_keyed

AGENCY = "reach-king-county"


async def consume(directory: Directory, bootstrap: str, key: str, count: int, *, backwards: bool = False) -> None:
    """Hand the first `count` records keyed `key` on divert.cases to the directory's consumer
    (last first with `backwards`, as a consumer might see events produced out of order)."""
    records = await records_keyed(bootstrap, CASES.name, key, count)
    records = records[::-1] if backwards else records
    dead_letters = create_producer(bootstrap, "directory-test-dlq")
    await dead_letters.start()
    try:
        runner = ConsumerRunner(
            group_id=GROUP_ID,
            bootstrap=bootstrap,
            topics=[CASES],
            handlers=case_handlers(directory.settings.case_agencies),
            unit_of_work=directory.unit_of_work,
            dead_letters=dead_letters,
            max_attempts=1,
        )
        stop = asyncio.Event()
        stop.set()  # a transient failure then raises here instead of being retried forever
        for record in records:
            await runner.handle(record, stop)
    finally:
        await dead_letters.stop()


async def publish(bootstrap: str, *batches: tuple[IntegrationEvent, list[str]]) -> int:
    """Publish each event under its CloudEvents ids, in order; how many records that made."""
    for event, ce_ids in batches:
        await produce(bootstrap, event, source="/divert/assessment", event_ids=ce_ids)
    return sum(len(ce_ids) for _, ce_ids in batches)


async def facts_of(directory: Directory, referral_id: UUID, agency: str | None = AGENCY):
    async with directory.sessions() as session:
        return await find_case_facts(session, referral_id, agency=agency), await find_consents(session, referral_id)


async def test_case_events_in_any_order_and_duplicated_leave_the_right_facts(
    directory: Directory, kafka_bootstrap: str, rows
) -> None:
    await ensure_topics(kafka_bootstrap, [CASES])
    referral_id, consent_id, now = uuid4(), uuid4(), utcnow()
    about = {"referral_id": referral_id, "jurisdiction": "king-county"}
    opened = CaseOpened(**about, pathway="arrest_diversion", opened_at=now - timedelta(days=2), assessment_due_by=None)
    first = CaseAssessmentCompleted(
        **about,
        completed_at=now - timedelta(days=1),
        assessment_due_by=None,
        on_time=True,
        needs=(Need(domain="food", priority=1, part2=False),),
    )
    latest = first.model_copy(
        update={
            "completed_at": now - timedelta(hours=1),
            "needs": (
                Need(domain="substance_use_treatment", priority=2, part2=True),
                Need(domain="housing", priority=1, part2=False),
            ),
        }
    )
    recorded = CaseConsentRecorded(
        **about,
        consent_id=consent_id,
        parties=("org-a",),
        purpose="service_referral",
        scope="full_case",
        part2=True,
        recorded_at=now - timedelta(hours=3),
        expires_at=now + timedelta(days=30),
    )
    revoked = CaseConsentRevoked(**about, consent_id=consent_id, revoked_at=now - timedelta(hours=2))
    duplicate = str(uuid4())
    # the revocation before its consent, the latest assessment before the older one, the opening
    # last; one record delivered twice and one event re-published under a new id
    count = await publish(
        kafka_bootstrap,
        (revoked, [str(uuid4())]),
        (latest, [duplicate, duplicate]),
        (recorded, [str(uuid4()), str(uuid4())]),
        (first, [str(uuid4())]),
        (opened, [str(uuid4())]),
    )

    await consume(directory, kafka_bootstrap, str(referral_id), count)

    facts, consents = await facts_of(directory, referral_id)
    assert facts is not None and facts.opened_at == opened.opened_at
    assert [(n.domain, n.priority, n.part2) for n in facts.needs] == [
        ("housing", 1, False),
        ("substance_use_treatment", 2, True),
    ]
    assert facts.assessed_at == latest.completed_at and not facts.closed
    [consent] = consents
    assert consent.parties == ("org-a",) and consent.part2 and consent.scope == "full_case"
    assert consent.revoked_at == revoked.revoked_at and not consent.in_force(utcnow())
    assert len(await rows(directory_cases, directory_cases.c.referral_id == str(referral_id))) == 1
    assert len(await rows(inbox, inbox.c.consumer == GROUP_ID)) == count - 1  # the redelivery was skipped


async def test_closure_and_reopening_follow_when_they_were_recorded(directory: Directory, kafka_bootstrap: str) -> None:
    await ensure_topics(kafka_bootstrap, [CASES])
    referral_id, now = uuid4(), utcnow()
    about = {"referral_id": referral_id, "jurisdiction": "king-county"}
    closed = CaseClosed(**about, reason="moved_away", closed_at=now - timedelta(days=3))
    reopened = CaseReopened(**about, reopened_at=now - timedelta(days=2))
    # recorded closed then reopened (their CloudEvents times say so), but consumed reopened first
    await produce(kafka_bootstrap, closed, source="/divert/assessment", event_ids=[str(uuid4())])
    await asyncio.sleep(0.01)
    await produce(kafka_bootstrap, reopened, source="/divert/assessment", event_ids=[str(uuid4())])

    await consume(directory, kafka_bootstrap, str(referral_id), 2, backwards=True)

    facts, _ = await facts_of(directory, referral_id)
    assert facts is not None and not facts.closed and facts.closed_at == closed.closed_at


async def test_a_consent_id_claimed_by_another_case_is_dead_lettered(
    directory: Directory, kafka_bootstrap: str, rows
) -> None:
    await ensure_topics(kafka_bootstrap, [CASES, CASES.dead_letter])
    consent_id, now = uuid4(), utcnow()
    mine, theirs = uuid4(), uuid4()
    consent = {
        "jurisdiction": "king-county",
        "consent_id": consent_id,
        "parties": ("org-a",),
        "purpose": "service_referral",
        "scope": "contact_details",
        "part2": False,
        "recorded_at": now,
        "expires_at": now + timedelta(days=1),
    }
    await produce(
        kafka_bootstrap, CaseConsentRecorded(referral_id=mine, **consent), source="/divert/assessment", event_ids=["a"]
    )
    await consume(directory, kafka_bootstrap, str(mine), 1)
    clash = CaseConsentRevoked(referral_id=theirs, jurisdiction="king-county", consent_id=consent_id, revoked_at=now)
    await produce(kafka_bootstrap, clash, source="/divert/assessment", event_ids=["b"])

    await consume(directory, kafka_bootstrap, str(theirs), 1)

    [dead] = await records_keyed(kafka_bootstrap, CASES.dead_letter.name, str(theirs), 1)
    assert dict(dead.headers)["divert_dlq_error"].startswith(b"rejected: consent")
    _, consents = await facts_of(directory, mine)
    assert [c.revoked_at for c in consents] == [None]  # the other case's revocation touched nothing
    assert await rows(inbox, inbox.c.event_id == "b") == []


async def test_a_case_of_a_jurisdiction_no_agency_serves_is_no_case_managers(directory: Directory, rows) -> None:
    referral_id = uuid4()
    event = CaseOpened(
        referral_id=referral_id,
        jurisdiction="nowhere",
        pathway="social_contact",
        opened_at=utcnow(),
        assessment_due_by=None,
    )
    handler = case_handlers(directory.settings.case_agencies)[CaseOpened]

    unit = directory.unit_of_work()
    unit.cause = caused_by_event("/divert/assessment", "x", None)
    async with unit as uow:
        await handler(event, uow)
        await uow.commit()

    async with directory.sessions() as session:
        assert await find_case_facts(session, referral_id, agency=None) is None
        assert await find_case_facts(session, referral_id, agency=AGENCY) is None
    [row] = await rows(directory_cases, directory_cases.c.referral_id == str(referral_id))
    assert row["agency"] is None and row["jurisdiction"] == "nowhere"
