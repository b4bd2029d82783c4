"""Assessment's settings: one class, read from the environment once at start-up."""

from pydantic import Field, field_validator

from divert_platform.settings import ServiceSettings

DEFAULT_CASE_AGENCIES: dict[str, str] = {
    "king-county": "reach-king-county",
    "santa-fe": "santa-fe-lead",
    "albany": "albany-lead",
    "demo": "demo-case-agency",
}
"""The case agency serving each shipped jurisdiction (intake's policies): who owns its cases."""

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

MAX_AGENCY_LENGTH = 64


class AssessmentSettings(ServiceSettings):
    """`DIVERT_*` variables for every assessment process."""

    service_name: str = "assessment"
    port: int = 8002

    case_agencies: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_CASE_AGENCIES),
        description=(
            '`DIVERT_CASE_AGENCIES`, JSON `{"<jurisdiction>": "<agency>"}`: the case agency serving each '
            "jurisdiction. A case belongs to the agency serving its jurisdiction when it is opened, and only "
            "case managers whose token names that agency see it. A case opened in a jurisdiction missing "
            "here belongs to no agency: no case manager sees it (program reports still count it), and a "
            "warning is logged; configure the agency before the jurisdiction takes referrals."
        ),
    )
    enforcement_parties: list[str] = Field(
        default_factory=lambda: list(DEFAULT_ENFORCEMENT_PARTIES),
        description=(
            "`DIVERT_ENFORCEMENT_PARTIES`, a JSON list of party ids: police, prosecution, courts and "
            "supervision. No consent may name one, and nothing is disclosed to one, nor to a unit of one "
            "(`spd-east`, `court:municipal`): LEAD's golden rule and 42 CFR Part 2 forbid using case "
            "information for enforcement. Compared case-insensitively."
        ),
    )

    @field_validator("case_agencies")
    @classmethod
    def _agency_ids_fit(cls, agencies: dict[str, str]) -> dict[str, str]:
        # `cases.agency` holds 64 characters; refuse at start-up what the database would refuse later
        if bad := sorted(j for j, agency in agencies.items() if not 0 < len(agency) <= MAX_AGENCY_LENGTH):
            raise ValueError(f"case agency ids must be 1 to {MAX_AGENCY_LENGTH} characters (jurisdictions {bad})")
        return agencies

    @field_validator("enforcement_parties")
    @classmethod
    def _parties_are_named(cls, parties: list[str]) -> list[str]:
        if any(not party.strip() for party in parties):
            raise ValueError("an enforcement party id cannot be blank")
        return parties
