"""Request and response bodies of the warrants REST API (the lapse notice's body is the shared
`divert_contracts.warrant_requests.WarrantRequestBody`).

Warrant data is status and dates only: never case content (needs, contacts, consent).
"""

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from divert_contracts.referrals import LapseAction
from divert_contracts.warrants import AcknowledgingRole, RescissionReason
from divert_platform.text import JurisdictionId
from divert_warrants.domain.warrant_request import WarrantRequestStatus

MAX_PAGE = 1000
"""The largest `limit` of `GET /v1/warrant-requests`."""


class AcknowledgementBody(BaseModel):
    """Optional: who acknowledges is the caller's role, from its token."""

    model_config = ConfigDict(extra="forbid")

    acknowledged_by: AcknowledgingRole | None = Field(
        None,
        description="`prosecutor` or `court`. Kept for older clients: when given it must be the caller's own role.",
    )


class WarrantRequestView(BaseModel):
    """A warrant request as prosecutors, courts and RMS see it: status, reasons and dates, in UTC."""

    warrant_request_id: UUID
    referral_id: UUID
    jurisdiction: JurisdictionId
    kind: LapseAction
    status: WarrantRequestStatus
    assessment_due_by: datetime
    lapsed_at: datetime
    requested_at: datetime
    rescinded_at: datetime | None = Field(
        description="When the request was rescinded; the prosecutor must not act on it."
    )
    rescission_reason: RescissionReason | None
    acknowledged_at: datetime | None
    acknowledged_by: AcknowledgingRole | None
    flagged: bool = Field(description="An acknowledged request later found wrongful: the prosecutor must review it.")
    flag_reason: RescissionReason | None
    flagged_at: datetime | None


class WarrantRequestList(BaseModel):
    """Warrant requests, oldest first."""

    items: list[WarrantRequestView] = Field(max_length=MAX_PAGE)
