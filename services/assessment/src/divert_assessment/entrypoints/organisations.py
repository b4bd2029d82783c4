"""The registry of organisations over REST: the ids a case manager may name in a consent.

The registry is program data (`DIVERT_ORGANISATIONS_FILE`), read-only here: a program adds an
organisation by adding it to its file and restarting assessment. Only the roles that record
consents read it.
"""

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from divert_assessment.bootstrap import Organisations
from divert_assessment.domain.organisations import (
    MAX_NAME_LENGTH,
    MAX_ORGANISATIONS,
    NAME_PATTERN,
    Organisation,
    OrganisationId,
    OrganisationType,
)
from divert_assessment.entrypoints.callers import CaseManager
from divert_platform.problems import problem_responses


class OrganisationView(BaseModel):
    """A registered organisation."""

    id: OrganisationId = Field(description="What a consent's `parties` and a disclosure's `party` name.")
    name: str = Field(max_length=MAX_NAME_LENGTH, pattern=NAME_PATTERN)
    type: OrganisationType
    may_receive: bool = Field(
        description=(
            "False for police, prosecution, courts, supervision and jails: a consent may never name them and "
            "nothing is ever disclosed to them (LEAD's golden rule)."
        )
    )


class OrganisationList(BaseModel):
    """Every registered organisation of the requested type, sorted by id."""

    items: list[OrganisationView] = Field(max_length=MAX_ORGANISATIONS)


router = APIRouter(prefix="/v1/organisations", tags=["organisations"], responses=problem_responses(401, 403, 422, 500))


@router.get("", response_model=OrganisationList, summary="List registered organisations")
async def list_organisations(
    caller: CaseManager,
    organisations: Organisations,
    type_: Annotated[OrganisationType | None, Query(alias="type", description="Only organisations of this type.")] = (
        None
    ),
) -> OrganisationList:
    """The organisations the program has registered, sorted by id: the only parties a consent
    may name and a disclosure may go to. Those with `may_receive` false (police, prosecution,
    courts, supervision, jails) are listed so they can be recognised; naming one is refused.
    An unknown `type` is 422."""
    chosen = [org for org in organisations.all() if type_ is None or org.type == type_]
    return OrganisationList(items=[_view(org) for org in chosen])


def _view(organisation: Organisation) -> OrganisationView:
    return OrganisationView(
        id=organisation.id,
        name=organisation.name,
        type=organisation.type,
        may_receive=not organisation.is_enforcement,
    )
