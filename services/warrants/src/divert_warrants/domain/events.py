"""Warrants' domain events, as stored in the warrants event store.

They stay inside this service; `service_layer/integration.py` maps them to published contracts.
No case content (needs, contacts, consent) ever appears here: LEAD's golden rule.
"""

from datetime import datetime
from uuid import UUID

from divert_contracts.referrals import LapseAction
from divert_contracts.warrants import AcknowledgingRole, Disposition, RescissionReason
from divert_platform.aggregate import DomainEvent


class WarrantRequestEvent(DomainEvent):
    """Something that happened to one warrant request."""

    warrant_request_id: UUID
    referral_id: UUID
    jurisdiction: str


class WarrantRequested(WarrantRequestEvent):
    """The referral's assessment window lapsed; the prosecutor or court is asked to act."""

    kind: LapseAction
    assessment_due_by: datetime
    lapsed_at: datetime
    requested_at: datetime


class RequestRescinded(WarrantRequestEvent):
    """The request was wrongful or moot before anyone acted on it; it is withdrawn."""

    reason: RescissionReason
    rescinded_at: datetime


class RequestAcknowledged(WarrantRequestEvent):
    """The prosecutor or court took the request; what they do next happens outside Divert."""

    acknowledged_by: AcknowledgingRole
    acknowledged_at: datetime


class WrongfulRequestFlagged(WarrantRequestEvent):
    """An acknowledged request turned out wrongful; it stays acknowledged and is flagged for review."""

    reason: RescissionReason
    flagged_at: datetime


class RequestDisposed(WarrantRequestEvent):
    """The prosecutor recorded what they did with the request (never `filed` on one that may not be)."""

    disposition: Disposition
    disposed_at: datetime
