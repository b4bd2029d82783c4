"""Which referral events start and signal the deadline clock (a fake clock records the calls)."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from divert_contracts.codec import DecodedEvent
from divert_contracts.referrals import Location, ReferralAccepted, RmsReference, Subject
from divert_intake.deadline.models import DeadlineInput
from divert_intake.service_layer.handlers import when_referral_accepted_start_deadline


class RecordingClock:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    async def start(self, deadline: DeadlineInput) -> None:
        self.calls.append(("start", deadline))

    async def record_assessment(self, deadline: DeadlineInput, completed_at: datetime) -> None:
        self.calls.append(("assessed", deadline))

    async def withdraw(self, deadline: DeadlineInput, withdrawn_at: datetime) -> None:
        self.calls.append(("withdrawn", deadline))

    async def extend(self, deadline: DeadlineInput, assessment_due_by: datetime) -> None:
        self.calls.append(("extended", deadline))


def accepted(pathway: str, due: datetime | None) -> DecodedEvent:
    event = ReferralAccepted(
        referral_id=uuid4(),
        jurisdiction="king-county",
        pathway=pathway,
        referred_at=datetime.now(UTC),  # type: ignore[arg-type]
        policy="king-county",
        policy_version="1",
        assessment_due_by=due,
        lapse_action="warrant_request" if due else None,
        rms=RmsReference(agency="SPD", case_number="1", officer_id="2"),
        subject=Subject(given_name="A", family_name="B"),
        location=Location(),
        offense_category=None,
    )
    return DecodedEvent(id="1", source="/divert/intake", type=event.event_type, subject=None, time=None, event=event)


async def test_an_arrest_diversion_starts_its_clock_with_the_due_time_from_the_event() -> None:
    clock, due = RecordingClock(), datetime.now(UTC) + timedelta(days=30)
    message = accepted("arrest_diversion", due)
    await when_referral_accepted_start_deadline(message, clock)
    [(call, deadline)] = clock.calls
    assert call == "start" and deadline.assessment_due_by == due
    assert deadline.referral_id == str(message.event.referral_id)


async def test_social_contact_and_community_referrals_never_start_a_clock() -> None:
    clock = RecordingClock()
    for pathway in ("social_contact", "community"):
        await when_referral_accepted_start_deadline(accepted(pathway, None), clock)
    assert clock.calls == []
