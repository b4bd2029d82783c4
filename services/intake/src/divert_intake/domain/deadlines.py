"""When an arrest diversion's assessment is due."""

from datetime import datetime, time, timedelta

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
