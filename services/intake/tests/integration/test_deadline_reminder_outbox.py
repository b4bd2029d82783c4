"""The reminder activity over intake's real database (SQLite and PostgreSQL): one reminder is one
`referral.assessment_due_soon` in the outbox, however often the activity runs, and none once the
referral is withdrawn."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from sqlalchemy import func, select

from divert_contracts.referrals import Location, ReferralAssessmentDueSoon, RmsReference, Subject
from divert_intake.bootstrap import Intake
from divert_intake.deadline.activities import DeadlineActivities
from divert_intake.deadline.models import ReminderNotice
from divert_intake.domain.commands import DecideApproval, SubmitReferral, WithdrawReferral
from divert_intake.domain.facts import Offense, Screening
from divert_intake.domain.referral import Referral
from divert_intake.service_layer import handlers
from divert_platform.cause import Cause
from divert_platform.schema import outbox

OFFICER = Cause(actor="officer-test", role="officer", agency="SPD")
MANAGER = Cause(actor="pm-test", role="program_manager")


async def _accepted(intake: Intake) -> Referral:
    """A King County arrest diversion accepted now by its approver (the program manager, under the
    version of 2026-12-06): reminded 7, 2 and 1 days before its due time."""
    now = datetime.now(UTC)
    command = SubmitReferral(
        referral_id=uuid4(),
        jurisdiction="king-county",
        pathway="arrest_diversion",
        referred_at=now - timedelta(minutes=5),
        rms=RmsReference(agency="SPD", case_number=uuid4().hex[:8], officer_id="1"),
        subject=Subject(given_name="Sam", family_name="Lee"),
        location=Location(),
        offense=Offense(category="drug_possession", drug_quantity_grams=0.5),
        screening=Screening(
            amenable=True,
            dealing_for_profit=False,
            exploits_minors=False,
            promotes_prostitution=False,
            on_state_probation=False,
            in_treatment_court=False,
            no_contact_order_with_participant=False,
        ),
        contact_drivers=("drug_use",),
        at=now,
    )
    uow = intake.unit_of_work()
    uow.cause = OFFICER
    async with uow:
        referral = (await handlers.submit_referral(command, uow)).referral
        await uow.commit()
    assert referral.approval is not None and referral.reminders == ()  # the window starts at the approval
    uow = intake.unit_of_work()
    uow.cause = MANAGER
    async with uow:
        approval = DecideApproval(referral.id, "approve", "meets_criteria", "program_manager", at=datetime.now(UTC))
        referral = await handlers.decide_approval(approval, uow)
        await uow.commit()
    assert len(referral.reminders) == 3
    return referral


async def _remind(intake: Intake, referral: Referral, index: int) -> bool:
    at = referral.reminders[index].at
    activities = DeadlineActivities(intake.unit_of_work, None, token=lambda: "unused", now=lambda: at)
    notice = ReminderNotice(
        referral_id=str(referral.id),
        jurisdiction="king-county",
        assessment_due_by=referral.assessment_due_by,
        remind_at=at,
    )
    return await activities.raise_reminder(notice)


async def _due_soon(intake: Intake, referral: Referral) -> list[ReferralAssessmentDueSoon]:
    async with intake.sessions() as session:
        rows = await session.execute(
            select(outbox.c.data).where(
                outbox.c.message_key == str(referral.id), outbox.c.event_type == ReferralAssessmentDueSoon.event_type
            )
        )
    return [ReferralAssessmentDueSoon.model_validate(row.data) for row in rows]


async def test_a_retried_reminder_puts_one_due_soon_event_in_the_outbox(intake: Intake) -> None:
    referral = await _accepted(intake)
    assert [await _remind(intake, referral, 0) for _ in range(3)] == [True, False, False]
    assert await _remind(intake, referral, 1) is True
    events = await _due_soon(intake, referral)
    assert [(e.days_before, e.next_reminder_at) for e in events] == [
        (7, referral.reminders[1].at),
        (2, referral.reminders[2].at),
    ]
    async with intake.sessions() as session:
        total = await session.scalar(select(func.count()).select_from(outbox))
    assert total == 4  # the approval request, the acceptance and the two reminders


async def test_no_reminder_is_recorded_for_a_withdrawn_referral(intake: Intake) -> None:
    referral = await _accepted(intake)
    uow = intake.unit_of_work()
    uow.cause = Cause(actor="pm-king", role="program_manager")
    async with uow:
        await handlers.withdraw_referral(WithdrawReferral(referral.id, "officer error", at=datetime.now(UTC)), uow)
        await uow.commit()
    assert await _remind(intake, referral, 0) is False
    assert await _due_soon(intake, referral) == []
