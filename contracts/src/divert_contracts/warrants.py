"""Events the warrants service publishes on `divert.warrants`.

Warrant data never includes case content (needs, contacts, consent): LEAD's golden rule.
"""

from typing import Literal
from uuid import UUID

from pydantic import Field

from divert_contracts.base import IntegrationEvent
from divert_contracts.referrals import LapseAction
from divert_contracts.timestamps import Instant
from divert_contracts.topics import WARRANTS


class WarrantRequested(IntegrationEvent):
    """An arrest diversion lapsed; the prosecutor or court is asked to act (`kind` says how)."""

    event_type = "org.divert.warrant.requested.v1"
    topic = WARRANTS.name

    warrant_request_id: UUID
    jurisdiction: str
    kind: LapseAction
    assessment_due_by: Instant
    lapsed_at: Instant | None = Field(None, description="When the assessment window was seen to close.")
    requested_at: Instant


RescissionReason = Literal["assessed_before_deadline", "referral_withdrawn"]
AcknowledgingRole = Literal["prosecutor", "court"]
Disposition = Literal["filed", "declined_to_file", "returned_to_program"]
"""What the prosecutor did with a request: filed charges (or the warrant), declined to file, or
returned the person to the program. Named `disposition`, never `outcome`: that name is case content
(a contact's outcome) in `divert_contracts.dataplane`."""


class WarrantRequestRescinded(IntegrationEvent):
    """The request was wrongful or moot and is withdrawn; the prosecutor or court must not act on it."""

    event_type = "org.divert.warrant.request_rescinded.v1"
    topic = WARRANTS.name

    warrant_request_id: UUID
    jurisdiction: str
    reason: RescissionReason
    rescinded_at: Instant


class WarrantRequestAcknowledged(IntegrationEvent):
    """The prosecutor or court took the request; what they do next happens outside Divert."""

    event_type = "org.divert.warrant.request_acknowledged.v1"
    topic = WARRANTS.name

    warrant_request_id: UUID
    jurisdiction: str
    acknowledged_by: AcknowledgingRole
    acknowledged_at: Instant


class WarrantRequestFlagged(IntegrationEvent):
    """An acknowledged request was later found wrongful: the prosecutor must review it.

    Acknowledged requests are never changed silently; this flag is how the error reaches them.
    """

    event_type = "org.divert.warrant.request_flagged.v1"
    topic = WARRANTS.name

    warrant_request_id: UUID
    jurisdiction: str
    reason: RescissionReason
    flagged_at: Instant


class WarrantRequestDisposed(IntegrationEvent):
    """The prosecutor recorded what they did with the request (`disposition`).

    Never `filed` for a rescinded or flagged request: warrants refuses that before it is recorded.
    """

    event_type = "org.divert.warrant.request_disposed.v1"
    topic = WARRANTS.name

    warrant_request_id: UUID
    jurisdiction: str
    disposition: Disposition
    disposed_at: Instant
