"""What the officer reports about the offense and the screening questions."""

from pydantic import BaseModel, ConfigDict


class Offense(BaseModel):
    """The offense the officer has probable cause for (arrest diversion) or observed."""

    model_config = ConfigDict(frozen=True)

    category: str
    statute: str | None = None
    drug_quantity_grams: float | None = None
    drug_type: str | None = None


class Screening(BaseModel):
    """Criminal-justice screening facts: used for the decision, then discarded, never stored."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    amenable: bool
    dealing_for_profit: bool
    exploits_minors: bool
    promotes_prostitution: bool
    disqualifying_convictions: tuple[str, ...] = ()
    on_state_probation: bool
    in_treatment_court: bool
    no_contact_order_with_participant: bool
