"""Jurisdictions API: the public rules each jurisdiction decides referrals by.

These are published rules, not anyone's facts, so every field of a policy may be shown, including
the name of the screening question an exclusion reads.
"""

from datetime import date, timedelta
from typing import Annotated, Literal, get_args

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from divert_contracts.referrals import ApproverRole, LapseAction, Pathway
from divert_intake.bootstrap import Policies
from divert_intake.domain.facts import ContactDriver
from divert_intake.domain.policy import (
    MAX_AGE,
    MAX_CONVICTION_CATEGORIES,
    MAX_DRUG_TYPES,
    MAX_EXCLUSIONS,
    MAX_JURISDICTIONS,
    MAX_MONTHS,
    MAX_OFFENSES,
    MAX_REMINDERS,
    MAX_VERSIONS,
    MAX_YEARS,
    HttpsUrl,
    JurisdictionPolicy,
    PolicyName,
    PolicyVersion,
    ReasonMessage,
    SourceDocument,
    SourceNote,
    SourceSection,
    TimeZone,
)
from divert_platform.clock import utcnow
from divert_platform.problems import NotFound, problem_responses
from divert_platform.text import CODE_PATTERN, Code
from divert_platform.text import JurisdictionId as JurisdictionIdText

# The views show policies, which are checked under the same bounds when intake loads them.


class SourceView(BaseModel):
    """Where a rule comes from: a document (and section or address), or a working assumption."""

    document: SourceDocument
    section: SourceSection | None
    url: HttpsUrl | None
    assumption: bool = Field(description="True: no program source was found; the rule is a working assumption.")
    note: SourceNote | None


class OffenseView(BaseModel):
    """An offense category the jurisdiction diverts, with its drug types and quantity limit if any."""

    category: Code
    drug_types: list[Code] = Field(
        max_length=MAX_DRUG_TYPES,
        description="The drug types the category is diverted for (a referral must name one); any when empty.",
    )
    max_drug_grams: float | None = Field(description="Over this many grams the referral is not eligible.")
    drug_types_without_limit: list[Code] = Field(
        max_length=MAX_DRUG_TYPES, description="Drug types the gram limit does not apply to."
    )
    source: SourceView | None


class ExcludedCategoryView(BaseModel):
    """An offense category never diverted, whatever drove the contact."""

    category: Code
    source: SourceView | None


class ConvictionsView(BaseModel):
    """How prior convictions (`screening.prior_convictions`) are judged: by category and date."""

    within_years: int = Field(ge=1, le=MAX_YEARS, description="The look-back of `within`, in calendar years.")
    any_time: list[Code] = Field(max_length=MAX_CONVICTION_CATEGORIES, description="Disqualify at any time.")
    within: list[Code] = Field(
        max_length=MAX_CONVICTION_CATEGORIES,
        description="Disqualify when the conviction, or the release from it if later, falls on or after the same "
        "day `within_years` years before the referral's local date.",
    )
    other: list[Code] = Field(
        max_length=MAX_CONVICTION_CATEGORIES, description="Accepted categories that never disqualify."
    )
    source: SourceView | None


class RuleSourcesView(BaseModel):
    """Sources of the rules stated as single values."""

    pathways: SourceView | None
    assessment: SourceView | None = Field(description="The assessment window, its lapse action and reminders.")
    minimum_age: SourceView | None
    contact_drivers: SourceView | None = Field(
        description="`requires_contact_driver` and `eligible_by_contact_drivers`."
    )


class ExclusionView(BaseModel):
    """A screening answer that excludes a person, with the reason code a declined referral reports."""

    code: Code
    message: ReasonMessage
    fact: Code = Field(description="The screening question the rule reads.")
    excluded_if: bool | Literal["non_empty"] = Field(description='The answer that excludes; "non_empty" for a list.')
    pathways: list[Pathway] | None = Field(
        max_length=len(get_args(Pathway)), description="The pathways it applies to; every pathway when null."
    )
    source: SourceView | None


class SocialContactView(BaseModel):
    """What a social contact referral (no probable cause) additionally needs."""

    prior_involvement_within_months: int = Field(
        ge=1,
        le=MAX_MONTHS,
        description="Documented drug or sex-work involvement in the area within this many calendar months.",
    )
    source: SourceView | None


class ApprovalView(BaseModel):
    """The approval gate: every referral waits for a human decision before it is accepted or declined."""

    by: ApproverRole = Field(description="Who decides: the jurisdiction's prosecutor or program manager.")
    within: timedelta = Field(description="ISO-8601 duration from the submission the approver has.")
    on_timeout: Literal["accept", "decline"] = Field(
        description="What becomes of a referral the rules found eligible when nobody decides in time; one they "
        "declined stays declined."
    )
    source: SourceView | None


class JurisdictionView(BaseModel):
    """One version of a jurisdiction's eligibility and deadline rules."""

    id: JurisdictionIdText
    name: PolicyName
    version: PolicyVersion
    effective_date: date = Field(description="The local date from which referrals are judged by this version.")
    time_zone: TimeZone = Field(description="IANA zone; referral dates and due times are read in it.")
    assessment_window: timedelta = Field(description="ISO-8601 duration an arrest diversion has for its assessment.")
    due_at_end_of_local_day: bool = Field(description="Whether the window runs to the end of the local day.")
    lapse_action: LapseAction = Field(description="What happens when an arrest diversion's window lapses.")
    assessment_reminders: list[timedelta] = Field(
        max_length=MAX_REMINDERS,
        description=(
            "ISO-8601 durations before the due time at which the case agency is reminded of an arrest "
            "diversion's assessment (whole days counted on the local calendar); empty when none."
        ),
    )
    pathways: list[Pathway] = Field(max_length=len(get_args(Pathway)))
    offenses: list[OffenseView] = Field(max_length=MAX_OFFENSES)
    exclusions: list[ExclusionView] = Field(max_length=MAX_EXCLUSIONS)
    minimum_age: int | None = Field(
        ge=1, le=MAX_AGE, description="When set, referrals must give the person's date of birth."
    )
    requires_contact_driver: bool = Field(
        description="Whether the contact must be driven by drug use, mental illness or poverty."
    )
    eligible_by_contact_drivers: list[ContactDriver] = Field(
        max_length=3,
        description="An offense category not in `offenses` is eligible when the contact has one of these drivers, "
        "unless it is in `excluded_offense_categories`; empty when only `offenses` are eligible.",
    )
    excluded_offense_categories: list[ExcludedCategoryView] = Field(max_length=MAX_OFFENSES)
    convictions: ConvictionsView | None = Field(
        description="Null: the version judges the officer's `disqualifying_convictions` list (any entry excludes "
        "where an exclusion reads it); otherwise screenings give `prior_convictions` of these categories."
    )
    social_contact: SocialContactView | None
    approval: ApprovalView | None = Field(
        description="Null: the rules' decision applies at once; otherwise every referral waits in `pending_approval`."
    )
    sources: RuleSourcesView


class VersionRef(BaseModel):
    """A version of a jurisdiction's policy, the date it takes effect, and where it stands today."""

    version: PolicyVersion
    effective_date: date
    standing: Literal["past", "current", "upcoming"] = Field(
        description=(
            "`current`: referrals made today are decided by it; `past`: it decided referrals made before the next "
            "version's date; `upcoming`: it decides referrals made from its effective date on."
        )
    )


class JurisdictionDetail(JurisdictionView):
    """One version of a jurisdiction's rules, with every version the jurisdiction has had."""

    versions: list[VersionRef] = Field(max_length=MAX_VERSIONS, description="Oldest first.")


JurisdictionId = Annotated[JurisdictionIdText, Path(description="The jurisdiction's id, e.g. king-county.")]
VersionQuery = Annotated[
    str | None,
    Query(max_length=64, pattern=CODE_PATTERN, description="A specific version; the one in force today when omitted."),
]


router = APIRouter(prefix="/v1/jurisdictions", tags=["jurisdictions"], responses=problem_responses(500))
"""Routes publishing every jurisdiction's policy (read-only, and public: policies change only by deployment)."""


@router.get("", response_model=Annotated[list[JurisdictionView], Field(max_length=MAX_JURISDICTIONS)])
async def list_jurisdictions(policies: Policies) -> list[JurisdictionView]:
    """The version of every jurisdiction's rules in force today, sorted by id (a version dated in
    the future is upcoming, listed by the detail route; a jurisdiction none of whose versions has
    taken effect yet shows the first to come)."""
    return [view_of(policy) for policy in policies.all(utcnow())]


@router.get("/{jurisdiction}", response_model=JurisdictionDetail, responses=problem_responses(404, 422))
async def get_jurisdiction(
    jurisdiction: JurisdictionId, policies: Policies, version: VersionQuery = None
) -> JurisdictionDetail:
    """One jurisdiction's rules (the version in force today, or `version`) and the list of its
    versions with where each stands: past, current or upcoming. A referral is decided by the
    version in force on its `referred_at` date in the jurisdiction's zone."""
    now = utcnow()
    policy = policies.current(jurisdiction, now) if version is None else policies.version(jurisdiction, version)
    if policy is None:
        raise NotFound(f"No jurisdiction {jurisdiction!r}" + (f" at version {version!r}." if version else "."))
    current = policies.effective_at(jurisdiction, now)
    upcoming = {p.version for p in policies.upcoming(jurisdiction, now)}
    versions = [
        VersionRef(
            version=p.version,
            effective_date=p.effective_date,
            standing="upcoming" if p.version in upcoming else "current" if p is current else "past",
        )
        for p in policies.versions(jurisdiction)
    ]
    return JurisdictionDetail(**view_of(policy).model_dump(), versions=versions)


def view_of(policy: JurisdictionPolicy) -> JurisdictionView:
    """The public view of one policy version."""
    return JurisdictionView(
        id=policy.id,
        name=policy.name,
        version=policy.version,
        effective_date=policy.effective_date,
        time_zone=policy.time_zone,
        assessment_window=policy.assessment_window,
        due_at_end_of_local_day=policy.due_at_end_of_local_day,
        lapse_action=policy.lapse_action,
        assessment_reminders=list(policy.assessment_reminders),
        pathways=list(policy.pathways),
        offenses=[OffenseView.model_validate(rule.model_dump()) for rule in policy.offenses],
        exclusions=[ExclusionView.model_validate(rule.model_dump()) for rule in policy.exclusions],
        minimum_age=policy.minimum_age,
        requires_contact_driver=policy.requires_contact_driver,
        eligible_by_contact_drivers=list(policy.eligible_by_contact_drivers),
        excluded_offense_categories=[
            ExcludedCategoryView.model_validate(rule.model_dump()) for rule in policy.excluded_offense_categories
        ],
        convictions=ConvictionsView.model_validate(policy.convictions.model_dump()) if policy.convictions else None,
        social_contact=(
            SocialContactView.model_validate(policy.social_contact.model_dump()) if policy.social_contact else None
        ),
        approval=ApprovalView.model_validate(policy.approval.model_dump()) if policy.approval else None,
        sources=RuleSourcesView.model_validate(policy.sources.model_dump()),
    )
