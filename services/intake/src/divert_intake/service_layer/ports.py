"""What intake's handlers need from the outside world, as small protocols (fakes in unit tests)."""

from datetime import datetime
from typing import Protocol

from divert_intake.deadline.models import DeadlineInput


class DuplicateActiveReferral(Exception):
    """Another active referral exists for the same RMS case and pathway (raised when a referral is
    saved: the claim is kept with the police status view)."""

    def __init__(self, existing_referral_id: str) -> None:
        super().__init__(f"an active referral {existing_referral_id} exists for this RMS case and pathway")
        self.existing_referral_id = existing_referral_id


class DeadlineClock(Protocol):
    """The durable assessment clock of arrest diversions (a Temporal workflow in production).

    Every call is safe to repeat, and safe before `start` (events of different topics carry no
    order between them): a call for a clock not yet started starts it first.
    """

    async def start(self, deadline: DeadlineInput) -> None:
        """Start the clock for a referral."""

    async def record_assessment(self, deadline: DeadlineInput, completed_at: datetime) -> None:
        """The assessment was completed at `completed_at`."""

    async def withdraw(self, deadline: DeadlineInput, withdrawn_at: datetime) -> None:
        """The referral was withdrawn: the clock stops without a lapse."""

    async def extend(self, deadline: DeadlineInput, assessment_due_by: datetime) -> None:
        """The due time moved later."""
