"""The reactions to `divert.cases` on the fake unit of work: each event merged into the case's facts
and consents, whatever order and however often they come; the consumer runner's cause (its
CloudEvents time) orders closures and reopenings."""

from datetime import UTC, datetime, timedelta
from functools import partial
from uuid import UUID, uuid4

import pytest

from divert_contracts.cases import (
    CaseAssessmentCompleted,
    CaseClosed,
    CaseConsentRecorded,
    CaseConsentRevoked,
    CaseOpened,
    CaseReopened,
    Need,
)
from divert_directory.service_layer import case_reactions as reactions
from divert_platform.cause import caused_by_event
from divert_platform.consumer import RejectedMessage

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
AGENCY = "reach-king-county"
CASE_AGENCIES = {"king-county": AGENCY}


async def deliver(uow, reaction, event, time: datetime | None = T0) -> None:
    """Apply `event` as the consumer runner does: caused by it (its CloudEvents time), committed."""
    uow.cause = caused_by_event("/divert/assessment", str(uuid4()), time)
    async with uow:
        await partial(reaction, case_agencies=CASE_AGENCIES)(event, uow)
        await uow.commit()


def opened(referral_id: UUID, jurisdiction: str = "king-county") -> CaseOpened:
    return CaseOpened(
        referral_id=referral_id,
        jurisdiction=jurisdiction,
        pathway="social_contact",
        opened_at=T0,
        assessment_due_by=None,
    )


def assessed(referral_id: UUID, completed_at: datetime, *needs: tuple[str, int]) -> CaseAssessmentCompleted:
    return CaseAssessmentCompleted(
        referral_id=referral_id,
        jurisdiction="king-county",
        completed_at=completed_at,
        assessment_due_by=None,
        on_time=True,
        needs=tuple(Need(domain=d, priority=p, part2=d == "substance_use_treatment") for d, p in needs),
    )


def recorded(referral_id: UUID, consent_id: UUID) -> CaseConsentRecorded:
    return CaseConsentRecorded(
        referral_id=referral_id,
        jurisdiction="king-county",
        consent_id=consent_id,
        parties=("org-a",),
        purpose="service_referral",
        scope="full_case",
        part2=True,
        recorded_at=T0,
        expires_at=T0 + timedelta(days=30),
    )


def revoked(referral_id: UUID, consent_id: UUID) -> CaseConsentRevoked:
    return CaseConsentRevoked(
        referral_id=referral_id, jurisdiction="king-county", consent_id=consent_id, revoked_at=T0 + timedelta(hours=1)
    )


async def test_an_opened_case_belongs_to_its_jurisdictions_agency(uow) -> None:
    ours, nobodys = uuid4(), uuid4()

    await deliver(uow, reactions.when_case_opened_note_case, opened(ours))
    await deliver(uow, reactions.when_case_opened_note_case, opened(nobodys, "nowhere"))

    facts = uow.cases.facts
    assert (facts[ours].agency, facts[ours].opened_at, facts[ours].jurisdiction) == (AGENCY, T0, "king-county")
    assert facts[nobodys].agency is None  # no case manager's
    assert uow.published == [] and uow.metadata == []  # state only: no events of the directory's own


async def test_the_latest_assessment_wins_whatever_order_they_come_in(uow) -> None:
    referral_id = uuid4()
    latest = assessed(referral_id, T0 + timedelta(days=1), ("food", 2), ("housing", 1))

    await deliver(uow, reactions.when_case_assessment_completed_note_needs, latest)
    await deliver(uow, reactions.when_case_assessment_completed_note_needs, assessed(referral_id, T0, ("legal", 1)))

    facts = uow.cases.facts[referral_id]
    assert [(n.domain, n.priority) for n in facts.needs] == [("housing", 1), ("food", 2)]
    assert facts.assessed_at == latest.completed_at and facts.agency == AGENCY  # the first event made the case


@pytest.mark.parametrize("revocation_first", [False, True])
async def test_a_consent_is_kept_and_its_revocation_holds_in_either_order(uow, revocation_first) -> None:
    referral_id, consent_id = uuid4(), uuid4()
    steps = [
        (reactions.when_case_consent_recorded_note_consent, recorded(referral_id, consent_id)),
        (reactions.when_case_consent_revoked_note_revocation, revoked(referral_id, consent_id)),
    ]

    for reaction, event in reversed(steps) if revocation_first else steps:
        await deliver(uow, reaction, event)

    consent = uow.consents.consents[consent_id]
    assert (consent.parties, consent.part2, consent.revoked_at) == (("org-a",), True, T0 + timedelta(hours=1))
    assert not consent.in_force(T0 + timedelta(hours=2))
    assert referral_id in uow.cases.facts  # a consent event may be the first heard of a case


async def test_a_consent_claimed_by_another_case_is_rejected(uow) -> None:
    mine, theirs, consent_id = uuid4(), uuid4(), uuid4()
    await deliver(uow, reactions.when_case_consent_recorded_note_consent, recorded(mine, consent_id))

    with pytest.raises(RejectedMessage):
        await deliver(uow, reactions.when_case_consent_revoked_note_revocation, revoked(theirs, consent_id))

    assert uow.consents.consents[consent_id].revoked_at is None


async def test_closure_and_reopening_follow_their_cloudevents_times(uow) -> None:
    referral_id = uuid4()
    reopened = CaseReopened(referral_id=referral_id, jurisdiction="king-county", reopened_at=T0 + timedelta(hours=1))
    # backdated: closed "at T0", but recorded (its CloudEvents time) after the reopening
    closed = CaseClosed(referral_id=referral_id, jurisdiction="king-county", reason="moved_away", closed_at=T0)

    await deliver(uow, reactions.when_case_closed_note_closure, closed, time=T0 + timedelta(hours=2))
    await deliver(uow, reactions.when_case_reopened_note_reopening, reopened, time=T0 + timedelta(hours=1))

    facts = uow.cases.facts[referral_id]
    assert facts.closed and facts.closed_at == T0


async def test_without_a_cloudevents_time_the_events_own_times_order_them(uow) -> None:
    referral_id = uuid4()
    reopened = CaseReopened(referral_id=referral_id, jurisdiction="king-county", reopened_at=T0)
    closed = CaseClosed(
        referral_id=referral_id, jurisdiction="king-county", reason="moved_away", closed_at=T0 + timedelta(hours=1)
    )

    await deliver(uow, reactions.when_case_closed_note_closure, closed, time=None)
    await deliver(uow, reactions.when_case_reopened_note_reopening, reopened, time=None)

    assert uow.cases.facts[referral_id].closed
