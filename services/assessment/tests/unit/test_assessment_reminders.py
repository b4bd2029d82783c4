"""Reminders and extensions of the assessment's due time, on the fake unit of work: what the case
records, what it ignores, that nothing is published, and how the views judge the next reminder."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from divert_assessment.domain import commands, events
from divert_assessment.domain.case import CaseStatus
from divert_assessment.entrypoints.views import next_reminder_at
from divert_assessment.service_layer import handlers
from divert_contracts.referrals import ReferralAccepted, ReferralAssessmentDueSoon, ReferralDeadlineExtended
from divert_platform.cause import caused_by_event
from divert_platform.clock import utcnow

from .test_assessment_handlers import accepted, assessment, command, deliver


async def react(uow, handler: Any, event: Any, event_id: str = "ce-9") -> None:
    """Apply one of intake's events as the consumer runner does (caused by it, committed)."""
    uow.cause = caused_by_event("/divert/intake", event_id, utcnow())
    async with uow:
        await handler(event, uow)
        await uow.commit()


async def with_reminders(uow) -> ReferralAccepted:
    """A case due in three days, reminded 2 days and 1 day before its due time."""
    event = accepted()
    due = event.assessment_due_by
    assert due is not None
    event = event.model_copy(update={"assessment_reminders_at": (due - timedelta(days=2), due - timedelta(days=1))})
    await deliver(uow, event)
    return event


def due_soon(event: ReferralAccepted, days_before: int = 2, **changes: Any) -> ReferralAssessmentDueSoon:
    assert event.assessment_due_by is not None
    fields: dict[str, Any] = {
        "referral_id": event.referral_id,
        "jurisdiction": event.jurisdiction,
        "assessment_due_by": event.assessment_due_by,
        "reminded_at": event.assessment_due_by - timedelta(days=days_before),
        "days_before": days_before,
        "next_reminder_at": event.assessment_due_by - timedelta(days=days_before - 1) if days_before > 1 else None,
    }
    return ReferralAssessmentDueSoon(**(fields | changes))


def extended(event: ReferralAccepted, by: timedelta, **changes: Any) -> ReferralDeadlineExtended:
    assert event.assessment_due_by is not None
    due = event.assessment_due_by + by
    fields: dict[str, Any] = {
        "referral_id": event.referral_id,
        "jurisdiction": event.jurisdiction,
        "previous_due_by": event.assessment_due_by,
        "assessment_due_by": due,
        "reason": "the person is in hospital",
        "extended_at": utcnow(),
        "assessment_reminders_at": (due - timedelta(days=1),),
    }
    return ReferralDeadlineExtended(**(fields | changes))


def stored(uow, referral_id: UUID) -> list[str]:
    return [event.name for event in uow.cases.streams[referral_id]]


class TestWhenAssessmentDueSoonMarkCase:
    async def test_the_case_keeps_its_reminders_and_is_marked_reminded_publishing_nothing(self, uow) -> None:
        event = await with_reminders(uow)
        published_before = len(uow.published)

        await react(uow, handlers.when_assessment_due_soon_mark_case, due_soon(event))

        opened, reminded = uow.cases.streams[event.referral_id]
        assert isinstance(opened, events.CaseOpened)
        assert opened.assessment_reminders_at == event.assessment_reminders_at
        assert isinstance(reminded, events.AssessmentReminded)
        assert (reminded.days_before, reminded.reminded_at) == (2, event.assessment_reminders_at[0])
        assert len(uow.published) == published_before  # nothing told on any topic, milestones included
        assert uow.metadata[-1] == {"actor": "/divert/intake", "role": "service", "causation_id": "ce-9"}

    async def test_the_same_reminder_again_or_an_earlier_one_changes_nothing(self, uow) -> None:
        event = await with_reminders(uow)
        await react(uow, handlers.when_assessment_due_soon_mark_case, due_soon(event, 1))

        await react(uow, handlers.when_assessment_due_soon_mark_case, due_soon(event, 1), "ce-10")  # a new id
        await react(uow, handlers.when_assessment_due_soon_mark_case, due_soon(event, 2), "ce-11")  # overtaken

        assert stored(uow, event.referral_id) == ["CaseOpened", "AssessmentReminded"]

    async def test_a_later_reminder_is_marked_after_the_first(self, uow) -> None:
        event = await with_reminders(uow)

        await react(uow, handlers.when_assessment_due_soon_mark_case, due_soon(event, 2))
        await react(uow, handlers.when_assessment_due_soon_mark_case, due_soon(event, 1), "ce-10")

        case = await uow.cases.get(event.referral_id)
        assert case is not None and case.last_reminded_at == event.assessment_reminders_at[1]

    async def test_a_reminder_for_no_case_an_assessed_or_closed_case_or_an_old_due_time_is_ignored(self, uow) -> None:
        nothing = accepted()
        await react(uow, handlers.when_assessment_due_soon_mark_case, due_soon(nothing))
        assert await uow.cases.get(nothing.referral_id) is None

        was_assessed = await with_reminders(uow)
        await command(uow, handlers.complete_assessment, assessment(was_assessed.referral_id))
        was_closed = await with_reminders(uow)
        close = commands.Close(was_closed.referral_id, "moved_away", utcnow(), utcnow())
        await command(uow, handlers.close, close)
        moved = await with_reminders(uow)
        old_due = moved.assessment_due_by - timedelta(hours=1)
        for event, reminder in (
            (was_assessed, due_soon(was_assessed)),
            (was_closed, due_soon(was_closed)),
            (moved, due_soon(moved, assessment_due_by=old_due)),
        ):
            await react(uow, handlers.when_assessment_due_soon_mark_case, reminder)
            assert "AssessmentReminded" not in stored(uow, event.referral_id)


class TestWhenDeadlineExtendedMoveDueTime:
    async def test_the_due_time_and_reminders_move_and_the_assessment_is_judged_against_them(self, uow) -> None:
        event = await with_reminders(uow)
        extension = extended(event, timedelta(days=5))

        await react(uow, handlers.when_deadline_extended_move_due_time, extension)
        # completed after the first due time, before the extended one
        late_for_the_first = event.assessment_due_by + timedelta(days=1)
        completing = commands.CompleteAssessment(event.referral_id, late_for_the_first, "cm-7", (), late_for_the_first)
        await command(uow, handlers.complete_assessment, completing)

        _, moved, completed = uow.cases.streams[event.referral_id]
        assert isinstance(moved, events.AssessmentDeadlineExtended)
        assert (moved.previous_due_by, moved.assessment_due_by) == (
            event.assessment_due_by,
            extension.assessment_due_by,
        )
        assert moved.assessment_reminders_at == extension.assessment_reminders_at
        assert "hospital" not in moved.model_dump_json()  # the free-text reason stays at intake
        assert isinstance(completed, events.AssessmentCompleted)
        assert completed.on_time and completed.assessment_due_by == extension.assessment_due_by

    async def test_a_reminder_of_the_due_time_before_the_extension_is_ignored(self, uow) -> None:
        event = await with_reminders(uow)
        await react(uow, handlers.when_deadline_extended_move_due_time, extended(event, timedelta(days=5)))

        await react(uow, handlers.when_assessment_due_soon_mark_case, due_soon(event), "ce-10")

        assert stored(uow, event.referral_id) == ["CaseOpened", "AssessmentDeadlineExtended"]

    async def test_the_same_extension_again_no_case_an_assessed_case_or_no_due_time_change_nothing(self, uow) -> None:
        event = await with_reminders(uow)
        extension = extended(event, timedelta(days=5))
        await react(uow, handlers.when_deadline_extended_move_due_time, extension)
        await react(uow, handlers.when_deadline_extended_move_due_time, extension, "ce-10")
        assert stored(uow, event.referral_id) == ["CaseOpened", "AssessmentDeadlineExtended"]

        nothing = accepted()
        await react(uow, handlers.when_deadline_extended_move_due_time, extended(nothing, timedelta(days=1)))
        assert await uow.cases.get(nothing.referral_id) is None

        was_assessed = await with_reminders(uow)
        await command(uow, handlers.complete_assessment, assessment(was_assessed.referral_id))
        await react(uow, handlers.when_deadline_extended_move_due_time, extended(was_assessed, timedelta(days=1)))
        assert "AssessmentDeadlineExtended" not in stored(uow, was_assessed.referral_id)

        without_due = accepted(pathway="social_contact", assessment_due_by=None, lapse_action=None)
        await deliver(uow, without_due)
        extension = extended(event, timedelta(days=1), referral_id=without_due.referral_id)
        await react(uow, handlers.when_deadline_extended_move_due_time, extension)
        assert stored(uow, without_due.referral_id) == ["CaseOpened"]


class TestNextReminderAt:
    NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
    REMINDERS = [
        (NOW - timedelta(days=1)).isoformat(),
        (NOW + timedelta(days=1)).isoformat(),
        "2026-03-05T08:00:00+00:00",
    ]

    def test_the_first_reminder_after_now_while_pending_assessment(self) -> None:
        row = {"status": CaseStatus.PENDING_ASSESSMENT.value, "assessment_reminders_at": self.REMINDERS}

        assert next_reminder_at(row, self.NOW) == self.NOW + timedelta(days=1)
        assert next_reminder_at(row, datetime(2026, 3, 5, 8, tzinfo=UTC)) is None  # the last one is not after now

    def test_none_without_reminders_or_once_assessed_or_closed(self) -> None:
        for status, reminders in (
            (CaseStatus.PENDING_ASSESSMENT, None),  # a row from before reminders
            (CaseStatus.PENDING_ASSESSMENT, []),
            (CaseStatus.ASSESSED, self.REMINDERS),
            (CaseStatus.CLOSED, self.REMINDERS),
        ):
            assert next_reminder_at({"status": status.value, "assessment_reminders_at": reminders}, self.NOW) is None


def test_an_accepted_referral_without_reminders_opens_a_case_without_any() -> None:
    """Events from before reminders decode with none (the contract's default)."""
    event = accepted()
    assert event.assessment_reminders_at == ()
    assert (
        events.CaseOpened.model_validate(
            {
                "referral_id": str(uuid4()),
                "jurisdiction": "king-county",
                "pathway": "arrest_diversion",
                "referred_at": "2025-01-01T00:00:00Z",
                "assessment_due_by": None,
                "opened_at": "2025-01-01T00:00:00Z",
                "subject": {"given_name": "Ana", "family_name": "Diaz"},
                "rms_agency": "SPD",
            }
        ).assessment_reminders_at
        == ()
    )
