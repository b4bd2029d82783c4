"""Events the warrants service publishes on `divert.warrants`.

Warrant data never includes case content (needs, contacts, consent): LEAD's golden rule.
"""

from datetime import datetime
from uuid import UUID

from pydantic import Field

from divert_contracts.base import IntegrationEvent
from divert_contracts.referrals import LapseAction
from divert_contracts.topics import WARRANTS


class WarrantRequested(IntegrationEvent):
    """An arrest diversion lapsed; the prosecutor or court is asked to act (`kind` says how)."""

    event_type = "org.divert.warrant.requested.v1"
    topic = WARRANTS.name

    warrant_request_id: UUID
    jurisdiction: str
    kind: LapseAction
    assessment_due_by: datetime
    lapsed_at: datetime | None = Field(None, description="When the assessment window was seen to close.")
    requested_at: datetime
