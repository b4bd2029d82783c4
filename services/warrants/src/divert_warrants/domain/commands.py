"""Commands the warrants service takes: what a caller asks to happen, before the request judges it.

Each carries the moment it was issued (`at`): the aggregate never reads a clock, so a command
means the same thing however late it is handled.
"""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from divert_contracts.referrals import LapseAction
from divert_contracts.warrants import AcknowledgingRole, Disposition


@dataclass(frozen=True)
class RequestWarrant:
    """The deadline workflow saw the assessment window close without an assessment."""

    warrant_request_id: UUID
    referral_id: UUID
    jurisdiction: str
    kind: LapseAction
    assessment_due_by: datetime
    lapsed_at: datetime
    at: datetime


@dataclass(frozen=True)
class AcknowledgeRequest:
    """The prosecutor or court takes the request (`by` is the caller's role)."""

    warrant_request_id: UUID
    by: AcknowledgingRole
    at: datetime


@dataclass(frozen=True)
class RecordDisposition:
    """The prosecutor says what they did with the request: filed, declined to file, or returned
    the person to the program."""

    warrant_request_id: UUID
    disposition: Disposition
    at: datetime
