"""The HTTP contract between intake's deadline workflow and the warrants service.

`POST /v1/warrant-requests` takes a `WarrantRequestBody`; both sides build it from this one model,
so a change to it is a change to both. The answer is read as a `WarrantRequestReceipt`, tolerantly:
warrants may add fields to its view without breaking the workflow.

The body is a claim, not a fact: warrants checks it against its own record of the referral (built
from intake's events) and makes the request of the record's values. The answers the worker must
tell apart (problem `type`s end with the kind named here):

- 201 created, 200 the referral's existing request (whatever its key or lapse time);
- 409 `lapse-not-recorded` (`LAPSE_NOT_RECORDED`), with `Retry-After`: warrants has not heard yet
  of the referral's acceptance or of its lapse (its events travel through Kafka). Retry the same
  call: it succeeds once they arrive. The only 409 a retry is sure to change;
- 409 `conflict` with `field` = `Idempotency-Key`: the key was used with another body (final);
- 409 `concurrent-request`, with `Retry-After`: another call for the same referral was being
  recorded at the same moment; retrying returns its request. (The platform answers a concurrent
  first use of one key with a 409 `conflict` without `field`: retrying returns the first's answer.)
- 409 `lapse-superseded`: intake's recorded lapse is before the due time in force (final);
- 422 `validation`: the body contradicts itself or warrants' record (`errors[].field` names
  `body.jurisdiction`, `body.kind`, `body.assessment_due_by` or `body.lapsed_at`; final).
"""

from datetime import UTC, datetime
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from divert_contracts.referrals import LapseAction

LAPSE_NOT_RECORDED = "lapse-not-recorded"
"""The last segment of the problem `type` of the retryable 409: the lapse has not reached warrants yet."""
LAPSE_SUPERSEDED = "lapse-superseded"
"""The last segment of the problem `type` of the final 409: an extension moved the due time past the lapse."""


class WarrantRequestBody(BaseModel):
    """What the deadline worker sends when a referral's assessment window lapsed: checked by warrants
    against its own record of the referral, never trusted."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    referral_id: UUID
    jurisdiction: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="Jurisdiction policy id, e.g. `king-county`.",
    )
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
