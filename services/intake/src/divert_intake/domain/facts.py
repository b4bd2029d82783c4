"""What the officer reports about the offense and the screening questions."""

from dataclasses import dataclass
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from divert_contracts.referrals import Pathway
from divert_contracts.timestamps import IsoDate

ContactDriver = Literal["drug_use", "mental_illness", "poverty"]
"""What drove the contact with police, as the officer reports it."""


class Offense(BaseModel):
    """The offense the officer has probable cause for (arrest diversion) or observed."""

    model_config = ConfigDict(frozen=True)

    category: str
    statute: str | None = None
    drug_quantity_grams: float | None = Field(None, ge=0, allow_inf_nan=False)
    drug_type: str | None = None


class PriorConviction(BaseModel):
    """One prior conviction, as a category of the policy's `[convictions]` and its dates."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    category: str = Field(description="One of the categories the policy's `[convictions]` section lists.")
    convicted_on: IsoDate
    released_on: IsoDate | None = Field(
        None, description="Release from the sentence, if any: the look-back counts from the later of the two dates."
    )


class Screening(BaseModel):
    """Criminal-justice screening facts: used for the decision, then discarded, never stored."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    amenable: bool
    dealing_for_profit: bool
    exploits_minors: bool
    promotes_prostitution: bool
    disqualifying_convictions: tuple[str, ...] = Field(
        (),
        description="Versions without a `[convictions]` section only: any entry excludes, as the officer judged it.",
    )
    prior_convictions: tuple[PriorConviction, ...] = Field(
        (),
        description="Versions with a `[convictions]` section only: Divert computes which of them disqualify.",
    )
    on_state_probation: bool
    in_treatment_court: bool
    no_contact_order_with_participant: bool
    prior_involvement_documented_on: IsoDate | None = Field(
        None,
        description="Most recent documented drug or sex-work involvement in the program area "
        "(social contact referrals require one within the policy's look-back).",
    )


@dataclass(frozen=True)
class EligibilityFacts:
    """Everything a jurisdiction's rules may read about one referral."""

    pathway: Pathway
    referred_on: date
    """The referral's date in the jurisdiction's time zone."""
    offense: Offense | None
    """Required for arrest diversions; optional for social contact and community referrals."""
    screening: Screening
    age: int | None
    """Whole years on `referred_on`, when the date of birth is known."""
    contact_drivers: tuple[str, ...]
