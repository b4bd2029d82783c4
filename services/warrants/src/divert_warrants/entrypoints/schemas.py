"""Request and response bodies of the warrants REST API.

Warrant data is status and dates only: never case content (needs, contacts, consent).
"""

from datetime import datetime
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from divert_contracts.referrals import LapseAction
from divert_contracts.warrants import AcknowledgingRole, RescissionReason
from divert_platform.clock import as_utc
from divert_warrants.domain.warrant_request import WarrantRequestStatus


class WarrantRequestBody(BaseModel):
    """What the deadline workflow sends when a referral's assessment window lapsed."""

    model_config = ConfigDict(extra="forbid")

    referral_id: UUID
    jurisdiction: str = Field(min_length=1, max_length=64, description="Jurisdiction policy id, e.g. `king-county`.")
    kind: LapseAction = Field(description="What the jurisdiction's policy does on a lapse.")
    assessment_due_by: AwareDatetime = Field(description="End of the assessment window, with its UTC offset.")
    lapsed_at: AwareDatetime = Field(description="When the window was seen to close, with its UTC offset.")

    @field_validator("assessment_due_by", "lapsed_at")
    @classmethod
    def _in_utc(cls, moment: datetime) -> datetime:
        # One instant, one spelling: a retry with another offset must fingerprint the same.
        return as_utc(moment)


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
    jurisdiction: str
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

    items: list[WarrantRequestView]
