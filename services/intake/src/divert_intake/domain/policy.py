"""Jurisdiction policies: versioned data files, validated when intake starts.

A new jurisdiction is a new file in `policies/`, not new code.
"""

import tomllib
from datetime import date, timedelta
from importlib import resources
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from divert_contracts.referrals import LapseAction, Pathway
from divert_intake.domain.facts import Screening


class _PolicyModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OffenseRule(_PolicyModel):
    """An eligible offense category, with its drug-quantity threshold where one applies."""

    category: str
    max_drug_grams: float | None = None
    drug_types_without_limit: tuple[str, ...] = Field(
        (), description="Drug types the quantity limit does not apply to (e.g. prescription pills)."
    )


class ExclusionRule(_PolicyModel):
    """A screening fact that excludes a person, with a stable reason code and a plain sentence."""

    code: str
    fact: str = Field(description="Name of the screening field the rule reads.")
    excluded_if: bool | Literal["non_empty"]
    message: str

    @field_validator("fact")
    @classmethod
    def _known_fact(cls, value: str) -> str:
        if value not in Screening.model_fields:
            raise ValueError(f"unknown screening fact {value!r}")
        return value


class JurisdictionPolicy(_PolicyModel):
    """One jurisdiction's eligibility and deadline rules at one version."""

    id: str
    version: str
    name: str
    time_zone: str
    effective_date: date
    assessment_window: timedelta = Field(description="ISO-8601 duration, e.g. P30D.")
    due_at_end_of_local_day: bool = Field(
        description="Due at the end of the local calendar day `window` days after the referral."
    )
    lapse_action: LapseAction
    pathways: tuple[Pathway, ...]
    offenses: tuple[OffenseRule, ...]
    exclusions: tuple[ExclusionRule, ...]

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        ZoneInfo(value)  # raises for an unknown zone
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def offense_rule(self, category: str) -> OffenseRule | None:
        """The rule for `category`, or None when the category is not eligible here."""
        return next((rule for rule in self.offenses if rule.category == category), None)


class PolicyBook:
    """Every jurisdiction's policy, by id."""

    def __init__(self, policies: list[JurisdictionPolicy]) -> None:
        self._policies = {policy.id: policy for policy in policies}
        if len(self._policies) != len(policies):
            raise ValueError("two policy files declare the same jurisdiction id")

    def get(self, jurisdiction: str) -> JurisdictionPolicy | None:
        """The policy for `jurisdiction`, or None."""
        return self._policies.get(jurisdiction)

    def all(self) -> list[JurisdictionPolicy]:
        """Every policy, sorted by id."""
        return [self._policies[key] for key in sorted(self._policies)]


def load_policy_book() -> PolicyBook:
    """Load and validate every `policies/*.toml` shipped with intake; fails loudly on a bad file."""
    policies = []
    for entry in sorted(resources.files("divert_intake.policies").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            try:
                policies.append(JurisdictionPolicy.model_validate(tomllib.loads(entry.read_text("utf-8"))))
            except Exception as error:
                raise ValueError(f"invalid jurisdiction policy {entry.name}: {error}") from error
    return PolicyBook(policies)
