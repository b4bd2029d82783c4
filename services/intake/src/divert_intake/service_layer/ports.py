"""What intake's handlers need from the outside world, as small protocols (fakes in unit tests)."""

from datetime import datetime
from typing import Protocol
from uuid import UUID

from divert_intake.deadline.models import DeadlineInput
from divert_intake.domain.events import HeldContact


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


class ApprovalTimer(Protocol):
    """The durable timer of a referral waiting at an approval gate (a Temporal workflow in production).

    It only says when to look: at `decide_by` intake applies the policy's rule to the referral if
    its own record still shows it waiting (`handlers.apply_approval_timeout`). Starting is safe to
    repeat: one timer per referral.
    """

    async def start(self, referral_id: str, decide_by: datetime) -> None:
        """Start the referral's timer, due at `decide_by`."""


class HeldContacts(Protocol):
    """The person's details of referrals waiting at an approval gate, kept beside the event store
    (which is never rewritten) until the decision, then deleted: a referral declined at its gate
    keeps no personal details, as one declined at once keeps none."""

    async def hold(self, referral_id: UUID, held: HeldContact) -> None:
        """Keep the details of a referral that starts waiting."""

    async def get(self, referral_id: UUID) -> HeldContact | None:
        """The details kept for a waiting referral, or None."""

    async def release(self, referral_id: UUID) -> None:
        """Delete them: the referral was decided or withdrawn."""
