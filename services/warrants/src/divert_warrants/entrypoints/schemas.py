"""Request and response bodies of the warrants REST API (the lapse notice's body is the shared
`divert_contracts.warrant_requests.WarrantRequestBody`).

Warrant data is status, dates and the police's own facts (RMS case, officer, offense): never who
the person is and never case content (needs, contacts, consent).
"""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from divert_contracts.referrals import LapseAction
from divert_contracts.warrants import AcknowledgingRole, Disposition, RescissionReason
from divert_platform.pagination import Cursor
from divert_platform.text import JurisdictionId, free_text
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


class DispositionBody(BaseModel):
    """What the prosecutor did with the request."""

    model_config = ConfigDict(extra="forbid")

    disposition: Disposition = Field(
        description=(
            "`filed` (charges or the warrant were filed), `declined_to_file`, or `returned_to_program` (the person "
            "goes back to the diversion program). `filed` is refused (409) on a request with `may_file: false`."
        )
    )


PoliceText = Annotated[str, free_text(200)]
"""A police fact as intake published it (bounded as intake's own API bounds it)."""
NOTICE_LENGTH = 400


class WarrantRequestView(BaseModel):
    """A warrant request as prosecutors, courts and program managers see it: the police's own facts
    about the referral, the window and its lapse, status, reasons and dates (in UTC). Never who the
    person is and never anything of the case agency's.

    The police facts (`rms_agency` to `originally_due_by`) are null for a referral accepted before
    warrants kept them (its migration 0006)."""

    warrant_request_id: UUID
    referral_id: UUID
    jurisdiction: JurisdictionId
    rms_agency: PoliceText | None = Field(description="The police agency whose records system holds the case.")
    rms_case_number: PoliceText | None = Field(description="The police case number in that agency's RMS.")
    officer_id: PoliceText | None = Field(description="The referring officer's id.")
    offense_category: PoliceText | None = Field(description="The offense category the officer gave.")
    offense_statute: PoliceText | None = Field(description="The statute the officer cited, when given.")
    referred_at: datetime | None = Field(description="When the officer referred the person.")
    policy_version: PoliceText | None = Field(description="The jurisdiction's policy version that set the window.")
    originally_due_by: datetime | None = Field(description="The due time the policy set, before any extension.")
    kind: LapseAction = Field(
        description=(
            "What the lapse asks for: `warrant_request`, or `return_for_charging` (the case goes back for charging)."
        )
    )
    status: WarrantRequestStatus
    assessment_due_by: datetime = Field(description="The due time in force at the lapse, extensions included.")
    lapsed_at: datetime
    requested_at: datetime
    may_file: bool = Field(description="False once the request is rescinded or flagged: nothing may be filed on it.")
    notice: Annotated[str, free_text(NOTICE_LENGTH)] = Field(description="What the request asks, in plain words.")
    disposition: Disposition | None = Field(description="What the prosecutor recorded doing with the request.")
    disposed_at: datetime | None
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
    """A page of warrant requests, oldest first."""

    items: list[WarrantRequestView] = Field(max_length=MAX_PAGE)
    next_cursor: Cursor | None = Field(None, description="Pass as `cursor` for the next page; null on the last one.")
