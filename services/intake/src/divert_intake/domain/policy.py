"""Jurisdiction policies: versioned data files, validated when intake starts.

A new jurisdiction, or a change to a jurisdiction's rules, is a new file in `policies/`, not new
code. Old versions stay so that a referral is always judged by the rules in force on its date.
"""

import tomllib
import typing
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from divert_contracts.referrals import ApproverRole, LapseAction, Pathway
from divert_intake.domain.facts import ContactDriver, Screening
from divert_intake.domain.reasons import LEGACY_EXCLUSION_CODES, RESERVED_REASON_CODES
from divert_platform.text import CODE_PATTERN, Code, free_text

# Codes the eligibility rules report themselves, and the `screening` code kept in place of
# screening reasons; an exclusion may not reuse one, or a reason code would stop meaning one thing.
BUILT_IN_REASON_CODES = RESERVED_REASON_CODES

# What a policy may hold, checked when intake loads it: the jurisdictions API shows policies under
# the same bounds (entrypoints/jurisdictions.py), so a policy that loads is one it can show.
MAX_OFFENSES, MAX_EXCLUSIONS, MAX_DRUG_TYPES, MAX_VERSIONS, MAX_JURISDICTIONS = 200, 50, 20, 100, 1000
MAX_MONTHS, MAX_AGE, MAX_YEARS, MAX_CONVICTION_CATEGORIES = 120, 120, 100, 100
MAX_REMINDERS = 10  # the contract's bound on reminders before one due time
PolicyVersion = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=CODE_PATTERN)]
TimeZone = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+/-]+$")]
PolicyName = Annotated[str, free_text(200, min_length=1)]
ReasonMessage = Annotated[str, free_text(1000, min_length=1)]
SourceDocument = Annotated[str, free_text(300, min_length=1)]
SourceSection = Annotated[str, free_text(300, min_length=1)]
SourceNote = Annotated[str, free_text(1000, min_length=1)]
HttpsUrl = Annotated[str, StringConstraints(min_length=9, max_length=500, pattern=r"^https://[!-~]+$")]


class _PolicyModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Source(_PolicyModel):
    """Where a rule comes from, so that anyone can check it against the program's own words; or,
    with `assumption = true`, that no program source was found and the rule is a working assumption."""

    document: SourceDocument = Field(description="The document, page or statute the rule is taken from.")
    section: SourceSection | None = None
    url: HttpsUrl | None = None
    assumption: bool = Field(False, description="True: a working assumption with no program source (see `note`).")
    note: SourceNote | None = None

    @model_validator(mode="after")
    def _assumption_says_why(self) -> Self:
        if self.assumption and self.note is None:
            raise ValueError(f"{self.document}: an assumption needs a note saying what it rests on")
        return self


class RuleSources(_PolicyModel):
    """Sources of the rules a policy states as single values rather than lists of rules."""

    pathways: Source | None = None
    assessment: Source | None = Field(None, description="The assessment window, its lapse action and reminders.")
    minimum_age: Source | None = None
    contact_drivers: Source | None = Field(
        None, description="`requires_contact_driver` and `eligible_by_contact_drivers`."
    )


class OffenseRule(_PolicyModel):
    """An eligible offense category, with its drug-quantity threshold and drug types where they apply."""

    category: Code = Field(min_length=1)
    drug_types: tuple[Code, ...] = Field(
        (),
        max_length=MAX_DRUG_TYPES,
        description="The drug types the category diverts; any when empty (a referral must then name its drug type).",
    )
    max_drug_grams: float | None = Field(None, gt=0, le=1_000_000, allow_inf_nan=False)
    drug_types_without_limit: tuple[Code, ...] = Field(
        (),
        max_length=MAX_DRUG_TYPES,
        description="Drug types the quantity limit does not apply to (e.g. prescription pills).",
    )
    source: Source | None = None

    @model_validator(mode="after")
    def _exception_needs_a_limit(self) -> Self:
        if self.drug_types_without_limit and self.max_drug_grams is None:
            raise ValueError(f"{self.category}: drug_types_without_limit without a max_drug_grams to except from")
        if len(set(self.drug_types)) != len(self.drug_types):
            raise ValueError(f"{self.category}: drug_types lists a drug type twice")
        if self.drug_types and not set(self.drug_types_without_limit) <= set(self.drug_types):
            raise ValueError(f"{self.category}: drug_types_without_limit names a drug type outside drug_types")
        return self

    def diverts_drug_type(self, drug_type: str | None) -> bool:
        """Whether the category diverts offenses involving `drug_type` (any, when no drug types are set)."""
        return not self.drug_types or drug_type in self.drug_types

    def needs_quantity(self, drug_type: str | None) -> bool:
        """Whether a referral of this category must give the drug quantity: where a limit applies to
        its drug type. A drug type the category does not divert needs none (it is declined anyway)."""
        return (
            self.max_drug_grams is not None
            and drug_type not in self.drug_types_without_limit
            and self.diverts_drug_type(drug_type)
        )


class ExclusionRule(_PolicyModel):
    """A screening fact that excludes a person, with a stable reason code and a plain sentence."""

    code: str = Field(max_length=100, pattern=r"^[a-z][a-z0-9_]*$")
    fact: str = Field(max_length=100, description="Name of the screening field the rule reads.")
    excluded_if: bool | Literal["non_empty"]
    message: ReasonMessage
    pathways: tuple[Pathway, ...] | None = Field(
        None, description="The pathways the exclusion applies to; every pathway when absent."
    )
    source: Source | None = None

    @field_validator("fact")
    @classmethod
    def _known_fact(cls, value: str) -> str:
        if value not in Screening.model_fields:
            raise ValueError(f"unknown screening fact {value!r}")
        if value == "prior_convictions":  # computed by the [convictions] section, never "any excludes"
            raise ValueError("screening fact 'prior_convictions' cannot be used as an exclusion: use [convictions]")
        return value

    @model_validator(mode="after")
    def _test_fits_the_fact(self) -> Self:
        # A yes/no fact takes true/false; a list takes "non_empty". Anything else would compare a
        # list with a boolean and silently never (or always) exclude.
        annotation = Screening.model_fields[self.fact].annotation
        if annotation is bool:
            takes_a_boolean, expected = True, "true or false"
        elif typing.get_origin(annotation) is tuple:
            takes_a_boolean, expected = False, '"non_empty"'
        else:
            raise ValueError(f"screening fact {self.fact!r} cannot be used as an exclusion")
        if takes_a_boolean != isinstance(self.excluded_if, bool):
            raise ValueError(f"{self.code}: excluded_if for {self.fact!r} must be {expected}")
        return self

    def applies_to(self, pathway: Pathway) -> bool:
        """Whether the exclusion is checked for referrals through `pathway`."""
        return self.pathways is None or pathway in self.pathways


class ExcludedOffenseCategory(_PolicyModel):
    """An offense category never diverted, whatever drove the contact (with `eligible_by_contact_drivers`)."""

    category: Code = Field(min_length=1)
    source: Source | None = None


class ConvictionRules(_PolicyModel):
    """Which prior convictions disqualify, computed from their categories and dates (`convictions.py`)."""

    within_years: int = Field(gt=0, le=MAX_YEARS, description="The look-back of `within`, in calendar years.")
    any_time: tuple[Code, ...] = Field((), max_length=MAX_CONVICTION_CATEGORIES, description="Disqualify whenever.")
    within: tuple[Code, ...] = Field(
        (),
        max_length=MAX_CONVICTION_CATEGORIES,
        description="Disqualify when the conviction, or the release from it if later, is within `within_years`.",
    )
    other: tuple[Code, ...] = Field(
        (), max_length=MAX_CONVICTION_CATEGORIES, description="Accepted categories that never disqualify."
    )
    source: Source | None = None

    @model_validator(mode="after")
    def _each_category_once(self) -> Self:
        if not self.categories:
            raise ValueError("[convictions] lists no category")
        if any(not code for code in self.categories):
            raise ValueError("[convictions] lists an empty category")
        if len(set(self.categories)) != len(self.categories):
            raise ValueError("[convictions] lists a category twice (categories are unique across the three lists)")
        return self

    @property
    def categories(self) -> tuple[str, ...]:
        """Every category a screening may give, in the policy's order."""
        return (*self.any_time, *self.within, *self.other)


class SocialContactRules(_PolicyModel):
    """Extra requirements for social contact referrals (no probable cause, so a documented history)."""

    prior_involvement_within_months: int = Field(
        gt=0,
        le=MAX_MONTHS,
        description="Documented drug or sex-work involvement in the area within this many calendar months.",
    )
    source: Source | None = None


MAX_APPROVAL_WAIT = timedelta(days=30)
"""The longest a referral may wait for its approver: the person waits too, neither jailed nor helped."""


class ApprovalRule(_PolicyModel):
    """A human decision every referral of the version waits for before it is accepted or declined.

    The rules' decision becomes the recommendation the approver sees; the approver accepts or
    declines it (accepting a recommended decline is an override, audited with who and why). A
    referral nobody decides `within` follows `on_timeout` if the rules found it eligible, and is
    declined if they did not (a timer never overrides the rules).
    """

    by: ApproverRole = Field(description="Who decides: the jurisdiction's prosecutor or program manager.")
    within: timedelta = Field(description="ISO-8601 duration from the submission, e.g. P2D.")
    on_timeout: Literal["accept", "decline"] = Field(
        description="What becomes of a referral the rules found eligible when nobody decides in time."
    )
    source: Source | None = None

    @field_validator("within")
    @classmethod
    def _bounded_wait(cls, value: timedelta) -> timedelta:
        if not timedelta(0) < value <= MAX_APPROVAL_WAIT:
            raise ValueError(f"approval.within must be positive and at most {MAX_APPROVAL_WAIT.days} days")
        return value


class JurisdictionPolicy(_PolicyModel):
    """One jurisdiction's eligibility and deadline rules at one version."""

    id: str = Field(max_length=64, pattern=r"^[a-z][a-z0-9-]*$")
    version: PolicyVersion
    name: PolicyName
    time_zone: TimeZone
    effective_date: date
    assessment_window: timedelta = Field(description="ISO-8601 duration, e.g. P30D.")
    due_at_end_of_local_day: bool = Field(
        description="Due at the end of the local calendar day `window` days after the referral."
    )
    lapse_action: LapseAction
    assessment_reminders: tuple[timedelta, ...] = Field(
        (),
        max_length=MAX_REMINDERS,
        description=(
            "ISO-8601 durations before the due time at which the case agency is reminded (arrest diversions), "
            "e.g. P7D: whole days are counted on the local calendar (domain/deadlines.py)."
        ),
    )
    pathways: tuple[Pathway, ...] = Field(min_length=1)
    offenses: tuple[OffenseRule, ...] = Field(max_length=MAX_OFFENSES)
    exclusions: tuple[ExclusionRule, ...] = Field(max_length=MAX_EXCLUSIONS)
    minimum_age: int | None = Field(None, gt=0, le=MAX_AGE, description="Whole years on the referral date.")
    requires_contact_driver: bool = Field(
        False, description="The contact must be driven by drug use, mental illness or poverty."
    )
    eligible_by_contact_drivers: tuple[ContactDriver, ...] = Field(
        (),
        max_length=3,
        description="An offense category not in `offenses` is still eligible when the contact has one of these "
        "drivers, unless it is in `excluded_offense_categories`.",
    )
    excluded_offense_categories: tuple[ExcludedOffenseCategory, ...] = Field((), max_length=MAX_OFFENSES)
    convictions: ConvictionRules | None = Field(
        None, description="Prior convictions computed by category and date; the legacy list is judged when absent."
    )
    social_contact: SocialContactRules | None = None
    approval: ApprovalRule | None = Field(
        None, description="A human decision before acceptance; the rules' decision is applied at once when absent."
    )
    sources: RuleSources = RuleSources()

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @field_validator("assessment_window")
    @classmethod
    def _positive_window(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("assessment_window must be positive")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = [*self._pathway_problems(), *self._duplicate_problems(), *self._reminder_problems()]
        problems += [*self._driver_problems(), *self._conviction_problems()]
        if self.due_at_end_of_local_day and self.assessment_window % timedelta(days=1):
            # The due date counts whole local days; a part day would be silently dropped.
            problems.append("an end-of-local-day assessment_window must be whole days")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _pathway_problems(self) -> Iterable[str]:
        if len(set(self.pathways)) != len(self.pathways):
            yield "pathways lists a pathway twice"
        if ("social_contact" in self.pathways) != (self.social_contact is not None):
            yield "a [social_contact] section is required exactly when pathways include social_contact"
        for rule in self.exclusions:
            if rule.pathways is not None and not set(rule.pathways) <= set(self.pathways):
                yield f"exclusion {rule.code} names a pathway the policy does not accept"

    def _reminder_problems(self) -> Iterable[str]:
        offsets = self.assessment_reminders
        if any(offset <= timedelta(0) or offset >= self.assessment_window for offset in offsets):
            # A reminder at or before the referral itself could never be raised.
            yield "each assessment_reminders duration must be positive and shorter than assessment_window"
        if len(set(offsets)) != len(offsets):
            yield "assessment_reminders lists a duration twice"

    def _duplicate_problems(self) -> Iterable[str]:
        categories = [rule.category for rule in self.offenses]
        if len(set(categories)) != len(categories):
            yield "an offense category is listed twice"
        codes = [rule.code for rule in self.exclusions]
        if len(set(codes)) != len(codes):
            yield "an exclusion code is used twice"
        if clashes := BUILT_IN_REASON_CODES.intersection(codes):
            yield f"exclusion codes {sorted(clashes)} are reserved for built-in rules"

    def _driver_problems(self) -> Iterable[str]:
        drivers = self.eligible_by_contact_drivers
        if len(set(drivers)) != len(drivers):
            yield "eligible_by_contact_drivers lists a driver twice"
        excluded = [rule.category for rule in self.excluded_offense_categories]
        if excluded and not drivers:
            # Without drivers every unlisted category is already ineligible: the list would say nothing.
            yield "excluded_offense_categories needs eligible_by_contact_drivers"
        if len(set(excluded)) != len(excluded):
            yield "an excluded offense category is listed twice"
        if both := set(excluded).intersection(rule.category for rule in self.offenses):
            yield f"offense categories {sorted(both)} are both eligible and excluded"

    def _conviction_problems(self) -> Iterable[str]:
        if self.convictions is None:
            return
        # The computed rule gives `disqualifying_conviction` itself; the officer's list is refused.
        if self.reads_fact("disqualifying_convictions"):
            yield "a version with [convictions] may not read disqualifying_convictions in an exclusion"
        if clashes := LEGACY_EXCLUSION_CODES.intersection(rule.code for rule in self.exclusions):
            yield f"exclusion codes {sorted(clashes)} are given by [convictions] in this version"

    def reads_fact(self, fact: str) -> bool:
        """Whether an exclusion of this version reads the screening fact `fact`."""
        return any(rule.fact == fact for rule in self.exclusions)

    @property
    def zone(self) -> ZoneInfo:
        """The jurisdiction's time zone."""
        return ZoneInfo(self.time_zone)

    def offense_rule(self, category: str) -> OffenseRule | None:
        """The rule for `category`, or None when the category is not listed (see `diverts_unlisted`)."""
        return next((rule for rule in self.offenses if rule.category == category), None)

    def diverts_unlisted(self, category: str, drivers: Iterable[str]) -> bool:
        """Whether an offense category with no rule of its own is eligible for a contact with these
        `drivers`: when one of them is in `eligible_by_contact_drivers` and the category is not excluded."""
        if any(rule.category == category for rule in self.excluded_offense_categories):
            return False
        return not set(self.eligible_by_contact_drivers).isdisjoint(drivers)


class PolicyBook:
    """Every version of every jurisdiction's policy."""

    def __init__(self, policies: Iterable[JurisdictionPolicy]) -> None:
        by_id: dict[str, list[JurisdictionPolicy]] = {}
        for policy in policies:
            by_id.setdefault(policy.id, []).append(policy)
        if len(by_id) > MAX_JURISDICTIONS:
            raise ValueError(f"more than {MAX_JURISDICTIONS} jurisdictions")
        for jurisdiction, versions in by_id.items():
            _check_versions(jurisdiction, versions)
        self._versions = {key: sorted(versions, key=lambda p: p.effective_date) for key, versions in by_id.items()}

    def ids(self) -> list[str]:
        """Every jurisdiction id, sorted."""
        return sorted(self._versions)

    def versions(self, jurisdiction: str) -> list[JurisdictionPolicy]:
        """Every version of `jurisdiction`'s policy, oldest effective date first; empty if unknown."""
        return list(self._versions.get(jurisdiction, []))

    def latest(self, jurisdiction: str) -> JurisdictionPolicy | None:
        """The version with the newest effective date, which may not have taken effect yet (for what
        every version shares, such as the time zone); None for an unknown jurisdiction. What is in
        force is `current`."""
        versions = self._versions.get(jurisdiction)
        return versions[-1] if versions else None

    get = latest  # the name callers used before policies were versioned

    def version(self, jurisdiction: str, version: str) -> JurisdictionPolicy | None:
        """One named version (e.g. the one a stored decision cites), or None."""
        return next((p for p in self._versions.get(jurisdiction, []) if p.version == version), None)

    def effective(self, jurisdiction: str, on: date) -> JurisdictionPolicy | None:
        """The version in force on the local date `on`; None if unknown or `on` precedes every version."""
        in_force = [p for p in self._versions.get(jurisdiction, []) if p.effective_date <= on]
        return in_force[-1] if in_force else None

    def effective_at(self, jurisdiction: str, moment: datetime) -> JurisdictionPolicy | None:
        """The version in force at `moment` (timezone-aware), read as a date in the jurisdiction's zone."""
        latest = self.latest(jurisdiction)
        if latest is None:
            return None
        # Every version shares one zone (checked at load), so the latest one's zone is the zone.
        return self.effective(jurisdiction, moment.astimezone(latest.zone).date())

    def current(self, jurisdiction: str, now: datetime) -> JurisdictionPolicy | None:
        """The version in force at `now` (read in the jurisdiction's zone) or, for a jurisdiction
        none of whose versions has taken effect yet, the first to come; None if unknown."""
        versions = self._versions.get(jurisdiction)
        if not versions:
            return None
        return self.effective_at(jurisdiction, now) or versions[0]

    def upcoming(self, jurisdiction: str, now: datetime) -> list[JurisdictionPolicy]:
        """The versions that take effect after `now`, soonest first (a version is in force from the
        start of its effective date, local time)."""
        versions = self._versions.get(jurisdiction, [])
        if not versions:
            return []
        today = now.astimezone(versions[0].zone).date()
        return [p for p in versions if p.effective_date > today]

    def all(self, now: datetime) -> list[JurisdictionPolicy]:
        """The current version (`current`) of every jurisdiction, sorted by id."""
        return [policy for key in self.ids() if (policy := self.current(key, now)) is not None]


def _check_versions(jurisdiction: str, versions: list[JurisdictionPolicy]) -> None:
    if len(versions) > MAX_VERSIONS:
        raise ValueError(f"{jurisdiction}: more than {MAX_VERSIONS} versions")
    names = [p.version for p in versions]
    if len(set(names)) != len(names):
        raise ValueError(f"{jurisdiction}: two policies declare the same version")
    dates = [p.effective_date for p in versions]
    if len(set(dates)) != len(dates):
        raise ValueError(f"{jurisdiction}: two versions take effect on the same date")
    if len({p.time_zone for p in versions}) != 1:
        raise ValueError(f"{jurisdiction}: versions disagree on the time zone")


class InvalidPolicy(ValueError):
    """A policy file is malformed or contradicts another; intake refuses to start."""


def load_policy_book(directory: Traversable | Path | None = None) -> PolicyBook:
    """Load and validate every `*.toml` policy (by default those shipped with intake).

    Fails loudly, naming the file, on a malformed file or a duplicated (id, version).
    """
    folder = directory if directory is not None else resources.files("divert_intake.policies")
    policies: list[JurisdictionPolicy] = []
    source: dict[tuple[str, str], str] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        try:
            policy = JurisdictionPolicy.model_validate(tomllib.loads(entry.read_text("utf-8")))
        except (tomllib.TOMLDecodeError, ValueError) as error:
            raise InvalidPolicy(f"invalid jurisdiction policy {entry.name}: {error}") from error
        key = (policy.id, policy.version)
        if key in source:
            raise InvalidPolicy(f"{entry.name} repeats {policy.id} version {policy.version} from {source[key]}")
        source[key] = entry.name
        policies.append(policy)
    try:
        return PolicyBook(policies)
    except ValueError as error:
        raise InvalidPolicy(f"invalid jurisdiction policies: {error}") from error
