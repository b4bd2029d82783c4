"""Warrants' domain events, as stored in the warrants event store.

They stay inside this service; `service_layer/integration.py` maps them to published contracts.
No case content (needs, contacts, consent) ever appears here: LEAD's golden rule.
"""

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from divert_contracts.referrals import LapseAction
from divert_contracts.warrants import AcknowledgingRole, RescissionReason


class DomainEvent(BaseModel):
    """Base of the warrants domain events; `name` is the stored event type."""

    model_config = ConfigDict(frozen=True)
    name: ClassVar[str]

    warrant_request_id: UUID
    referral_id: UUID


class WarrantRequested(DomainEvent):
    """The referral's assessment window lapsed; the prosecutor or court is asked to act."""

    name = "WarrantRequested"

    jurisdiction: str
    kind: LapseAction
    assessment_due_by: datetime
    lapsed_at: datetime
    requested_at: datetime


class RequestRescinded(DomainEvent):
    """The request was wrongful or moot before anyone acted on it; it is withdrawn."""

    name = "RequestRescinded"

    jurisdiction: str
    reason: RescissionReason
    rescinded_at: datetime


class RequestAcknowledged(DomainEvent):
    """The prosecutor or court took the request; what they do next happens outside Divert."""

    name = "RequestAcknowledged"

    jurisdiction: str
    acknowledged_by: AcknowledgingRole
    acknowledged_at: datetime


class WrongfulRequestFlagged(DomainEvent):
    """An acknowledged request turned out wrongful; it stays acknowledged and is flagged for review."""

    name = "WrongfulRequestFlagged"

    jurisdiction: str
    reason: RescissionReason
    flagged_at: datetime


EVENT_TYPES: dict[str, type[DomainEvent]] = {
    cls.name: cls for cls in (WarrantRequested, RequestRescinded, RequestAcknowledged, WrongfulRequestFlagged)
}
