"""Reminders before the assessment due time: when they fall (local calendar days, right across
daylight-saving changes), which are left out, how extensions move them, and how intake's record
decides whether the deadline workflow's reminder is raised (once) or refused."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from divert_contracts import referrals as contract
from divert_contracts.referrals import Location, RmsReference, Subject
from divert_intake.adapters.metrics import count_committed
from divert_intake.deadline.activities import DeadlineActivities
from divert_intake.deadline.models import LapseNotice, ReminderNotice
from divert_intake.domain.commands import ExtendDeadline, RaiseReminder, RecordLapse, SubmitReferral
from divert_intake.domain.deadlines import assessment_due_by, reminder_moment, reminder_schedule
from divert_intake.domain.facts import Offense, Screening
from divert_intake.domain.policy import JurisdictionPolicy, load_policy_book
from divert_intake.domain.referral import Referral, ReminderRefusal, ReminderRefused
from divert_intake.service_layer import handlers
from divert_platform.cause import Cause
from divert_platform.testing import metric_value

POLICIES = load_policy_book()
WORKFLOW = Cause(actor="referral-deadline-workflow", role="service")
DAYS = (timedelta(days=7), timedelta(days=2), timedelta(days=1))
END_OF_DAY = (23, 59, 59, 999999)


def policy_in(zone: str, reminders: tuple[timedelta, ...] = DAYS, window: timedelta = timedelta(days=30)):
    return JurisdictionPolicy(
        id="test",
        version="1",
        name="Test",
        time_zone=zone,
        effective_date=date(2026, 1, 1),
        assessment_window=window,
        due_at_end_of_local_day=True,
        lapse_action="warrant_request",
        assessment_reminders=reminders,
        pathways=("arrest_diversion",),
        offenses=(),
        exclusions=(),
    )


def wall_clock(moment: datetime, zone: str) -> tuple[int, ...]:
    local = moment.astimezone(ZoneInfo(zone))
    return (local.month, local.day, local.hour, local.minute, local.second, local.microsecond)


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "America/Denver", "America/New_York"])
def test_reminders_keep_the_local_end_of_day_across_spring_forward(zone: str) -> None:
    # 2027-03-14 is the US spring-forward day: due 2027-03-16, reminded on 03-09 (standard time),
    # 03-14 and 03-15 (daylight time), each at the end of the local day.
    policy = policy_in(zone)
    due = assessment_due_by(policy, datetime(2027, 2, 14, 10, tzinfo=ZoneInfo(zone)))
    reminders = reminder_schedule(policy, due, after=datetime(2027, 2, 14, tzinfo=UTC))
    assert [wall_clock(r.at, zone) for r in reminders] == [(3, day, *END_OF_DAY) for day in (9, 14, 15)]
    assert [r.days_before for r in reminders] == [7, 2, 1]
    # In absolute time the 7-day reminder is an hour less than 7 times 24 hours before the due time.
    assert due - reminders[0].at == timedelta(days=7, hours=-1)
    assert due - reminders[1].at == timedelta(days=2)


def test_reminders_keep_the_local_time_across_fall_back() -> None:
    # 2026-11-01 is the US fall-back day: a due time of 11-03 09:15 is reminded at 09:15 on 10-27.
    zone = "America/Los_Angeles"
    due = datetime(2026, 11, 3, 9, 15, tzinfo=ZoneInfo(zone))
    moment = reminder_moment(due, timedelta(days=7), ZoneInfo(zone))
    assert wall_clock(moment, zone) == (10, 27, 9, 15, 0, 0)
    assert due - moment == timedelta(days=7, hours=1)
    assert moment.tzinfo is UTC


def test_a_wall_clock_time_in_the_spring_forward_gap_is_read_before_the_change() -> None:
    zone = ZoneInfo("America/Los_Angeles")
    due = datetime(2027, 3, 15, 2, 30, tzinfo=zone)  # 02:30 on 03-14 does not exist there
    assert reminder_moment(due, timedelta(days=1), zone) == datetime(2027, 3, 14, 10, 30, tzinfo=UTC)


def test_a_part_of_a_day_is_subtracted_exactly() -> None:
    zone = ZoneInfo("America/Los_Angeles")
    due = datetime(2026, 12, 30, 8, tzinfo=UTC)
    assert reminder_moment(due, timedelta(seconds=10), zone) == due - timedelta(seconds=10)
    assert reminder_moment(due, timedelta(days=1, hours=2), zone) == due - timedelta(days=1, hours=2)


def test_reminders_already_past_at_acceptance_are_left_out() -> None:
    policy = policy_in("America/Denver")
    due = datetime(2026, 12, 20, 6, 59, 59, 999999, tzinfo=UTC)
    after = due - timedelta(days=3)  # decided three days before the due time: 7 days before is past
    assert [r.days_before for r in reminder_schedule(policy, due, after=after)] == [2, 1]
    assert reminder_schedule(policy, due, after=due - timedelta(days=1)) == ()


def test_santa_fe_reminds_two_and_one_days_before_its_seven_day_window() -> None:
    santa_fe = POLICIES.get("santa-fe")
    assert santa_fe is not None
    referred = datetime(2027, 3, 10, 15, tzinfo=UTC)
    due = assessment_due_by(santa_fe, referred)
    reminders = reminder_schedule(santa_fe, due, after=referred)
    assert [wall_clock(r.at, "America/Denver") for r in reminders] == [(3, d, *END_OF_DAY) for d in (15, 16)]


def test_the_shipped_policies_publish_their_reminders() -> None:
    assert POLICIES.get("king-county").assessment_reminders == DAYS
    assert POLICIES.get("albany").assessment_reminders == DAYS
    assert POLICIES.get("demo").assessment_reminders == (timedelta(seconds=10),)


@pytest.mark.parametrize(
    ("reminders", "problem"),
    [
        ((timedelta(days=30),), "shorter than assessment_window"),
        ((timedelta(0),), "must be positive"),
        ((timedelta(days=2), timedelta(days=2)), "twice"),
        (tuple(timedelta(days=n) for n in range(1, 12)), "at most 10"),
    ],
)
def test_a_policy_with_impossible_reminders_does_not_load(reminders: tuple[timedelta, ...], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        policy_in("America/New_York", reminders)


# --- intake's record of the reminders ------------------------------------------------------------

NOW = datetime(2026, 12, 1, 20, tzinfo=UTC)


def _submission() -> SubmitReferral:
    return SubmitReferral(
        referral_id=uuid4(),
        jurisdiction="king-county",
        pathway="arrest_diversion",
        referred_at=NOW - timedelta(hours=1),
        rms=RmsReference(agency="SPD", case_number=uuid4().hex[:8], officer_id="7781"),
        subject=Subject(given_name="Jordan", family_name="Doe"),
        location=Location(precinct="West"),
        offense=Offense(category="drug_possession", drug_quantity_grams=1.2, drug_type="opioid"),
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
        at=NOW,
    )


async def _accepted(uow) -> Referral:
    uow.cause = WORKFLOW
    async with uow:
        submission = await handlers.submit_referral(_submission(), uow)
        await uow.commit()
    return submission.referral


async def _run(uow, handler, command):
    uow.cause = WORKFLOW
    async with uow:
        result = await handler(command, uow)
        await uow.commit()
    return result


async def test_acceptance_publishes_the_reminders_of_the_policy(uow) -> None:
    referral = await _accepted(uow)
    [accepted] = uow.published
    assert isinstance(accepted, contract.ReferralAccepted)
    assert referral.assessment_due_by is not None
    assert accepted.assessment_reminders_at == tuple(
        reminder_moment(referral.assessment_due_by, days, ZoneInfo("America/Los_Angeles")) for days in DAYS
    )


async def test_an_extension_recomputes_the_reminders_from_the_new_due_time(uow) -> None:
    referral = await _accepted(uow)
    assert referral.assessment_due_by is not None
    later = referral.assessment_due_by + timedelta(days=3)
    at = referral.assessment_due_by - timedelta(days=4)  # the new 7-day reminder is already past then
    await _run(uow, handlers.extend_deadline, ExtendDeadline(referral.id, later, "in hospital", at=at))
    extended = uow.published[-1]
    assert isinstance(extended, contract.ReferralDeadlineExtended)
    zone = ZoneInfo("America/Los_Angeles")
    assert extended.assessment_reminders_at == tuple(reminder_moment(later, d, zone) for d in DAYS[1:])
    assert [r.at for r in (await uow.referrals.get(referral.id)).reminders] == list(extended.assessment_reminders_at)


async def test_a_reminder_is_raised_and_published_once_however_often_it_is_reported(uow) -> None:
    referral = await _accepted(uow)
    first, second = referral.reminders[0], referral.reminders[1]
    command = RaiseReminder(referral.id, referral.assessment_due_by, first.at, at=first.at)
    assert await _run(uow, handlers.raise_reminder, command) is True
    assert await _run(uow, handlers.raise_reminder, replace(command, at=first.at + timedelta(minutes=5))) is False
    due_soon = [e for e in uow.published if isinstance(e, contract.ReferralAssessmentDueSoon)]
    assert len(due_soon) == 1
    assert (due_soon[0].days_before, due_soon[0].reminded_at, due_soon[0].next_reminder_at) == (7, first.at, second.at)
    assert due_soon[0].assessment_due_by == referral.assessment_due_by
    assert set(due_soon[0].model_dump()) == {
        "referral_id",
        "jurisdiction",
        "assessment_due_by",
        "reminded_at",
        "days_before",
        "next_reminder_at",
    }


async def test_reminders_the_record_contradicts_are_refused(uow) -> None:
    referral = await _accepted(uow)
    due, first = referral.assessment_due_by, referral.reminders[0].at
    assert due is not None
    cases = {
        ReminderRefusal.DUE_TIME_MISMATCH: RaiseReminder(referral.id, due + timedelta(days=1), first, at=first),
        ReminderRefusal.UNKNOWN_REMINDER: RaiseReminder(referral.id, due, first + timedelta(hours=1), at=due),
        ReminderRefusal.NOT_YET_DUE: RaiseReminder(referral.id, due, first, at=first - timedelta(hours=1)),
        ReminderRefusal.UNKNOWN_REFERRAL: RaiseReminder(uuid4(), due, first, at=first),
    }
    for reason, command in cases.items():
        with pytest.raises(ReminderRefused) as refused:
            await _run(uow, handlers.raise_reminder, command)
        assert refused.value.reason is reason
    assert not any(isinstance(e, contract.ReferralAssessmentDueSoon) for e in uow.published)


async def test_a_lapse_after_a_reminder_names_its_jurisdiction_once(uow) -> None:
    referral = await _accepted(uow)
    due, first = referral.assessment_due_by, referral.reminders[0].at
    assert due is not None
    await _run(uow, handlers.raise_reminder, RaiseReminder(referral.id, due, first, at=first))
    lapse = RecordLapse(referral.id, due, due, at=due + timedelta(seconds=1))
    assert await _run(uow, handlers.record_lapse, lapse) == "king-county"
    assert await _run(uow, handlers.record_lapse, lapse) is None  # the retried activity counts nothing


async def _activity_reminder(uow, referral: Referral, now: datetime) -> bool:
    activities = DeadlineActivities(lambda: uow, None, token=lambda: "t", now=lambda: now)
    notice = ReminderNotice(
        referral_id=str(referral.id),
        jurisdiction="anything the workflow says",
        assessment_due_by=referral.assessment_due_by,
        remind_at=referral.reminders[0].at,
    )
    return await activities.raise_reminder(notice)


async def test_the_activity_raises_a_reminder_once_and_it_is_counted(uow, metric_reader) -> None:
    referral = await _accepted(uow)
    at = referral.reminders[0].at
    assert await _activity_reminder(uow, referral, at) is True
    assert await _activity_reminder(uow, referral, at + timedelta(seconds=3)) is False  # a retried attempt
    due_soon = [e for e in uow.published if isinstance(e, contract.ReferralAssessmentDueSoon)]
    assert len(due_soon) == 1
    before = metric_value(metric_reader, "divert.deadline.reminders", jurisdiction="king-county")
    count_committed(uow.published)  # what intake's real unit of work does once the transaction commits
    assert metric_value(metric_reader, "divert.deadline.reminders", jurisdiction="king-county") == before + 1


@pytest.mark.parametrize("settle", ["assessed", "withdrawn"])
async def test_the_activity_refuses_a_reminder_for_an_assessed_or_withdrawn_referral(
    uow, metric_reader, settle: str
) -> None:
    referral = await _accepted(uow)
    stored = await uow.referrals.get(referral.id)
    if settle == "assessed":
        stored.record_assessment(NOW + timedelta(hours=1))
    else:
        stored.withdraw("officer error", NOW + timedelta(hours=1))
    await uow.referrals.save(stored)
    before = metric_value(metric_reader, "divert.deadline.reminder_refusals", reason="not_pending")
    assert await _activity_reminder(uow, referral, referral.reminders[0].at) is False
    assert not any(isinstance(e, contract.ReferralAssessmentDueSoon) for e in uow.published)
    assert metric_value(metric_reader, "divert.deadline.reminder_refusals", reason="not_pending") == before + 1


async def test_the_activity_counts_a_lapse_that_followed_a_reminder(uow, metric_reader) -> None:
    referral = await _accepted(uow)
    due = referral.assessment_due_by
    assert due is not None
    assert await _activity_reminder(uow, referral, referral.reminders[0].at)
    activities = DeadlineActivities(lambda: uow, None, token=lambda: "t", now=lambda: due + timedelta(seconds=1))
    notice = LapseNotice(
        referral_id=str(referral.id),
        jurisdiction="king-county",
        assessment_due_by=due,
        lapse_action="warrant_request",
        lapsed_at=due,
    )
    before = metric_value(metric_reader, "divert.deadline.lapses_after_reminder", jurisdiction="king-county")
    await activities.record_lapse(notice)
    await activities.record_lapse(notice)
    after = metric_value(metric_reader, "divert.deadline.lapses_after_reminder", jurisdiction="king-county")
    assert after == before + 1
