"""Registered organisations: who a consent may name and who a disclosure may go to (docs/domain.md#privacy).

The registry is an allowlist kept as program data (`organisations.toml`, or the file
`DIVERT_ORGANISATIONS_FILE` names), validated when assessment starts. An id it does not hold is
refused, so a typo or an agency nobody vetted never becomes a recipient. Each organisation has a
type. Police, prosecution, courts, supervision and jails may be registered too, precisely so that
naming one is refused with the reason: nothing learned through care coordination may be used for
enforcement, whatever a consent says (LEAD's golden rule; 42 CFR Part 2 forbids using the records
to investigate or prosecute the patient).
"""

import tomllib
from collections.abc import Iterable
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

RecipientType = Literal[
    "case_agency",
    "program_management",
    "service_provider",
    "health_care",
    "substance_use_treatment",
    "mental_health",
    "public_defense",
    "legal_aid",
    "housing",
    "benefits",
    "employment",
    "food",
    "evaluation",
]
"""Organisations a consent may name: care, services, defence, the program itself and its
evaluators (a consent naming an `evaluation` organisation lets Part 2 needs into the evaluation
extract; docs/domain.md#the-evaluation-extract)."""

EnforcementType = Literal["police", "prosecution", "court", "supervision", "jail"]
"""Organisations that never receive case information, whatever a consent says (the golden rule)."""

OrganisationType = Literal[RecipientType, EnforcementType]
"""Every type an organisation in the registry may have."""

RECIPIENT_TYPES: tuple[str, ...] = get_args(RecipientType)
ENFORCEMENT_TYPES: tuple[str, ...] = get_args(EnforcementType)

_ENFORCEMENT_NOUNS: dict[str, str] = {
    "police": "a police or sheriff's agency",
    "prosecution": "a prosecutor's office",
    "court": "a court",
    "supervision": "a probation, parole or community-supervision agency",
    "jail": "a jail or detention facility",
}

MAX_ORGANISATIONS = 2000
"""At most this many organisations in a registry, so the list route's answer stays bounded."""
MAX_NAME_LENGTH = 200
NAME_PATTERN = r"^[^\x00-\x1f\x7f]+$"
"""A name is one line of printable text."""

OrganisationId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9._:-]*$")]
"""An organisation's id: lower case, as consents and disclosures name it (an HSDS organization
id, a UUID, for a provider in the services directory)."""


class Organisation(BaseModel):
    """One registered organisation: its id, its name as people know it, and its type."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: OrganisationId
    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH, pattern=NAME_PATTERN)
    type: OrganisationType

    @field_validator("name")
    @classmethod
    def _named(cls, name: str) -> str:
        if not name.strip():
            raise ValueError("an organisation's name cannot be blank")
        return name

    @property
    def is_enforcement(self) -> bool:
        """Police, prosecution, a court, supervision or a jail: never a recipient of case information."""
        return self.type in ENFORCEMENT_TYPES


class OrganisationRegistry:
    """Every organisation the program has registered, by id."""

    def __init__(self, organisations: Iterable[Organisation]) -> None:
        self._by_id: dict[str, Organisation] = {}
        for organisation in organisations:
            if organisation.id in self._by_id:
                raise ValueError(f"organisation id {organisation.id!r} is registered twice")
            self._by_id[organisation.id] = organisation

    def find(self, party: str) -> Organisation | None:
        """The organisation registered under exactly this id, or None."""
        return self._by_id.get(party)

    def all(self) -> list[Organisation]:
        """Every registered organisation, sorted by id."""
        return [self._by_id[key] for key in sorted(self._by_id)]


def not_registered(party: str) -> str:
    """Why `party` may not receive case information: the program has not registered it."""
    return (
        f"{party!r} is not a registered organisation: case information goes only to organisations the "
        "program has registered (GET /v1/organisations lists their ids)"
    )


def never_to_enforcement(organisation: Organisation) -> str:
    """Why `organisation` may never receive case information: it is an enforcement agency."""
    noun = _ENFORCEMENT_NOUNS.get(organisation.type, organisation.type)
    return (
        f"{organisation.id!r} ({organisation.name}) is {noun}: case information is never shared with police, "
        "prosecution, courts, supervision or jails, whatever a consent says (LEAD's golden rule; 42 CFR Part 2 "
        "forbids using it to investigate or prosecute the person)"
    )


class RegistryFile(BaseModel):
    """The registry's data file: a TOML array of `[[organisations]]` tables."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    organisations: tuple[Organisation, ...] = Field(min_length=1, max_length=MAX_ORGANISATIONS)


class InvalidRegistry(ValueError):
    """The organisations file is missing, malformed or repeats an id; assessment refuses to start."""


BUNDLED = "organisations.toml"
"""The registry shipped with assessment (fictional providers, and the enforcement agencies of the
shipped jurisdictions so that naming them is refused with the reason)."""


def load_organisations(path: Path | None = None) -> OrganisationRegistry:
    """Load and validate the registry at `path` (by default the one shipped with assessment).

    Fails loudly, naming the file, on a file that cannot be read, is not TOML, has an unknown
    field or type, an id or name out of bounds, or an id registered twice.
    """
    source: Traversable | Path = path if path is not None else resources.files("divert_assessment") / BUNDLED
    try:
        data = tomllib.loads(source.read_text("utf-8"))
        return OrganisationRegistry(RegistryFile.model_validate(data).organisations)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ValueError) as error:
        raise InvalidRegistry(f"invalid organisations file {source}: {error}") from error
