"""When an arrest diversion's assessment is due, and when the case agency is reminded of it."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from divert_intake.domain.policy import JurisdictionPolicy

_END_OF_DAY = time(23, 59, 59, 999999)


def assessment_due_by(policy: JurisdictionPolicy, referred_at: datetime) -> datetime:
    """The due time of an assessment for a referral made at `referred_at` (timezone-aware).

    With `due_at_end_of_local_day`, it is the end of the local calendar day `window` days after the
    referral's local date in the jurisdiction's time zone. Calendar arithmetic on the local date,
    then localising, keeps it right across daylight-saving changes (a plain `+ 30 days` on an
    aware datetime would be off by an hour). Otherwise it is `referred_at + window` exactly.
    """
    if referred_at.tzinfo is None:
        raise ValueError("referred_at must carry a UTC offset")
    if not policy.due_at_end_of_local_day:
        return referred_at + policy.assessment_window
    local_date = referred_at.astimezone(policy.zone).date()
    due_date = local_date + timedelta(days=policy.assessment_window.days)
    return datetime.combine(due_date, _END_OF_DAY, tzinfo=policy.zone)


class Reminder(BaseModel):
    """One reminder before a due time: when it is raised and the policy offset (in whole days) it
    comes from."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    days_before: int


def reminder_moment(due_by: datetime, offset: timedelta, zone: ZoneInfo) -> datetime:
    """`due_by` minus `offset`, in UTC, the offset's whole days counted on the local calendar.

    The reminder is at the same local wall-clock time `offset.days` calendar days earlier (a
    daylight-saving change in between does not move it by an hour), less any part of a day the
    offset has, subtracted exactly. A wall-clock time that falls in a spring-forward gap is read
    with the offset before the change; one that occurs twice, at its first occurrence.
    """
    if due_by.tzinfo is None:
        raise ValueError("due_by must carry a UTC offset")
    local = due_by.astimezone(zone).replace(tzinfo=None)
    earlier = (local - timedelta(days=offset.days)).replace(tzinfo=zone, fold=0)
    return earlier.astimezone(UTC) - (offset - timedelta(days=offset.days))


def reminder_schedule(policy: JurisdictionPolicy, due_by: datetime, after: datetime) -> tuple[Reminder, ...]:
    """The reminders the policy sets before `due_by`, earliest first, leaving out those at or
    before `after` (the acceptance, or an extension: a moment already past is never raised)."""
    reminders = (
        Reminder(at=reminder_moment(due_by, offset, policy.zone), days_before=offset.days)
        for offset in policy.assessment_reminders
    )
    return tuple(sorted((r for r in reminders if after < r.at < due_by), key=lambda r: r.at))
