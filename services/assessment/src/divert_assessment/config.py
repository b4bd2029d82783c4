"""Assessment's settings: one class, read from the environment once at start-up."""

from pydantic import Field, field_validator

from divert_platform.settings import CaseAgencySettings

DEFAULT_ENFORCEMENT_PARTIES: list[str] = [
    "police",
    "sheriff",
    "prosecutor",
    "district-attorney",
    "court",
    "probation",
    "parole",
    "spd",
    "kcso",
    "king-county-prosecutor",
    "sfpd",
    "albany-pd",
]
"""Party ids that are police, prosecution, courts or supervision: never a disclosure's recipient."""


class AssessmentSettings(CaseAgencySettings):
    """`DIVERT_*` variables for every assessment process."""

    service_name: str = "assessment"
    port: int = 8002

    enforcement_parties: list[str] = Field(
        default_factory=lambda: list(DEFAULT_ENFORCEMENT_PARTIES),
        description=(
            "`DIVERT_ENFORCEMENT_PARTIES`, a JSON list of party ids: police, prosecution, courts and "
            "supervision. No consent may name one, and nothing is disclosed to one, nor to a unit of one "
            "(`spd-east`, `court:municipal`): LEAD's golden rule and 42 CFR Part 2 forbid using case "
            "information for enforcement. Compared case-insensitively."
        ),
    )

    @field_validator("enforcement_parties")
    @classmethod
    def _parties_are_named(cls, parties: list[str]) -> list[str]:
        if any(not party.strip() for party in parties):
            raise ValueError("an enforcement party id cannot be blank")
        return parties
