"""The HTTP contract between intake's deadline workflow and the warrants service.

`POST /v1/warrant-requests` takes a `WarrantRequestBody`; both sides build it from this one model,
so a change to it is a change to both. The answer is read as a `WarrantRequestReceipt`, tolerantly:
warrants may add fields to its view without breaking the workflow.
"""

from datetime import UTC, datetime
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from divert_contracts.referrals import LapseAction


class WarrantRequestBody(BaseModel):
    """What the deadline workflow sends when a referral's assessment window lapsed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    referral_id: UUID
    jurisdiction: str = Field(min_length=1, max_length=64, description="Jurisdiction policy id, e.g. `king-county`.")
    kind: LapseAction = Field(description="What the jurisdiction's policy does on a lapse.")
    assessment_due_by: AwareDatetime = Field(description="End of the assessment window, with its UTC offset.")
    lapsed_at: AwareDatetime = Field(description="When the window was seen to close, with its UTC offset.")

    @field_validator("assessment_due_by", "lapsed_at")
    @classmethod
    def _in_utc(cls, moment: datetime) -> datetime:
        # One instant, one spelling: a retry with another offset must fingerprint the same.
        return moment.astimezone(UTC)


class WarrantRequestReceipt(BaseModel):
    """The part of warrants' answer the workflow relies on; anything else in it is ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    warrant_request_id: UUID
    status: str
