"""What intake's handlers need from the outside world, as small protocols (fakes in unit tests)."""

from datetime import datetime
from typing import Protocol

from divert_intake.deadline.models import DeadlineInput


class DeadlineClock(Protocol):
    """The durable assessment clock of arrest diversions (a Temporal workflow in production)."""

    async def start(self, deadline: DeadlineInput) -> None:
        """Start the clock for a referral; starting it again is harmless."""

    async def record_assessment(self, deadline: DeadlineInput, completed_at: datetime) -> None:
        """Tell the clock the assessment was completed; harmless if it already stopped."""
