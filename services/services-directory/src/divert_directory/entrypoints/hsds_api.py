"""The Open Referral HSDS 3.0 API over the catalogue: the root document, services, organizations,
services at locations, taxonomies and taxonomy terms, as the standard's `schema/openapi.json`
defines them.

Lists are pages (numbered from 1) of the standard's `Page`; every filter given narrows the list
further (filters are ANDed). Items are the standard's fully nested objects. The catalogue holds no
personal data, but every caller except the root's still needs a token (docs/access.md).
"""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from divert_directory.adapters import catalogue_queries as queries
from divert_directory.adapters.catalogue_queries import ServiceFilter, Slice, TermFilter
from divert_directory.adapters.nesting import ONE_TO_ONE, nest
from divert_directory.bootstrap import Parts
from divert_directory.domain.hsds import HSDS_VERSION
from divert_directory.domain.hsds_tables import Nested
from divert_directory.entrypoints.callers import catalogue_reader
from divert_directory.entrypoints.referral_schemas import PostalCode
from divert_directory.entrypoints.schemas import MAX_PAGE_NUMBER, MAX_PER_PAGE, HsdsRoot, Page
from divert_platform.dependencies import ReadSession
from divert_platform.problems import NotFound, Unprocessable, problem_responses
from divert_platform.text import IDENTIFIER_PATTERN, FreeText

Record = dict[str, Any]

Search = Annotated[FreeText | None, Query(max_length=200, description="Full text search: every word must appear.")]
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE_NUMBER, description="Page number of paginated result (from 1).")]
PerPage = Annotated[int, Query(ge=1, le=MAX_PER_PAGE, description="Number of results requested in a single page.")]
Format = Annotated[
    Literal["json"], Query(alias="format", description="Only `json`: this directory does not stream `ndjson`.")
]
Full = Annotated[bool, Query(description="Return fully nested objects.")]
Id = Annotated[str | None, Query(max_length=100, pattern=IDENTIFIER_PATTERN)]
RecordId = Annotated[str, Path(max_length=100, pattern=IDENTIFIER_PATTERN, description="The record's HSDS id.")]
ModifiedAfter = Annotated[
    str | None,
    Query(
        max_length=64,
        description="Only services modified on or after this ISO 8601 date-time (UTC when no offset).",
        json_schema_extra={"format": "date-time"},
    ),
]
_SAL_SERVICE = (Nested("service", "service", "service_id", many=False),)
_SAL_LOCATION = (Nested("location", "location", "location_id", many=False),)


def _utc(text: str | None) -> datetime | None:
    """`modified_after` as a UTC datetime. Parsed here, not by pydantic, which would also take a
    bare number as a Unix time: HSDS asks for a date-time."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise Unprocessable(
            "modified_after is not an ISO 8601 date-time",
            errors=[{"field": "query.modified_after", "message": "not an ISO 8601 date-time", "code": "datetime"}],
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _minimal(service: Record) -> Record:
    # HSDS says "just id and modified date", but its compiled list schema requires name and status
    return {name: service[name] for name in ("id", "name", "status", "last_modified") if name in service}


public = APIRouter(tags=["hsds"])
"""`GET /`: public, like the health routes."""
router = APIRouter(tags=["hsds"], dependencies=[Depends(catalogue_reader)], responses=problem_responses(401, 403, 422))
"""The catalogue routes, for the roles of `callers.CATALOGUE_ROLES`."""


@public.get("/", response_model=HsdsRoot, summary="Retrieve information about this API and its relationship with HSDS.")
async def hsds_root(request: Request, directory: Parts) -> HsdsRoot:
    """The HSDS 3.0 root document: HSDS version, profile and this API's OpenAPI URL.

    `openapi_url` is built from the request's own base URL, so it is right behind whatever
    host name or path prefix the caller used.
    """
    return HsdsRoot(
        version=HSDS_VERSION,
        profile=directory.settings.hsds_profile,
        openapi_url=str(request.base_url).rstrip("/") + (request.app.openapi_url or "/openapi.json"),
    )


async def _one(session: AsyncSession, type_name: str, record_id: str) -> Record:
    found = await queries.record_of(session, type_name, record_id)
    if found is None:
        raise NotFound(f"no {type_name} {record_id}")
    return (await nest(session, type_name, [found]))[0]


@router.get("/services", response_model=Page, summary="Paginated list of services")
async def list_services(
    session: ReadSession,
    search: Search = None,
    page: PageNumber = 1,
    per_page: PerPage = 50,
    response_format: Format = "json",
    taxonomy_term_id: Annotated[Id, Query(description="Services with this taxonomy term.")] = None,
    taxonomy_id: Annotated[Id, Query(description="Services with any term of this taxonomy.")] = None,
    organization_id: Annotated[Id, Query(description="Services this organization provides.")] = None,
    modified_after: ModifiedAfter = None,
    minimal: Annotated[bool, Query(description="Only `id`, `name`, `status` and `last_modified`.")] = False,
    full: Full = False,
) -> Page:
    """Services matching every filter given, by name. Each carries its one-to-one fields and its
    `organization` and `program`; `full` nests everything HSDS nests in a service; `minimal`
    (which wins over `full`) keeps only what the standard's list schema requires plus
    `last_modified`. `search` looks in name, alternate name and description."""
    where = ServiceFilter(search, taxonomy_term_id, taxonomy_id, organization_id, _utc(modified_after))
    total, found = await queries.list_services(session, where, Slice(page, per_page))
    if minimal:
        found = [_minimal(service) for service in found]
    else:
        found = await nest(session, "service", found, only=None if full else ONE_TO_ONE, deep=full)
    return Page.of(found, total_items=total, page=page, per_page=per_page)


@router.get(
    "/services/{id}", response_model=dict[str, Any], summary="A fully nested service", responses=problem_responses(404)
)
async def get_service(id: RecordId, session: ReadSession) -> Record:
    """The service with all its related data, as HSDS's `compiled/service.json`."""
    return await _one(session, "service", id)


@router.get("/organizations", response_model=Page, summary="Paginated list of organizations")
async def list_organizations(
    session: ReadSession,
    search: Search = None,
    full_service: Annotated[bool, Query(description="With `full`: nest each service fully.")] = False,
    full: Annotated[bool, Query(description="Fully nested organizations, each with its `services`.")] = False,
    page: PageNumber = 1,
    per_page: PerPage = 50,
    response_format: Format = "json",
) -> Page:
    """Organizations by name, with their one-to-one fields (nested fully with `full`)."""
    total, found = await queries.list_organizations(session, search, Slice(page, per_page))
    if full:
        found = await _organizations(session, found, full_service)
    return Page.of(found, total_items=total, page=page, per_page=per_page)


@router.get(
    "/organizations/{id}",
    response_model=dict[str, Any],
    summary="A fully nested organization",
    responses=problem_responses(404),
)
async def get_organization(
    id: RecordId,
    session: ReadSession,
    full_service: Annotated[bool, Query(description="Nest each service fully.")] = False,
) -> Record:
    """The organization with its related data and `services` (their one-to-one fields, or
    fully nested with `full_service`), as HSDS's `compiled/organization.json`."""
    found = await queries.record_of(session, "organization", id)
    if found is None:
        raise NotFound(f"no organization {id}")
    return (await _organizations(session, [found], full_service))[0]


@router.get("/service_at_locations", response_model=Page, summary="Paginated list of services at locations")
async def list_service_at_locations(
    session: ReadSession,
    search: Search = None,
    taxonomy_term_id: Annotated[Id, Query(description="Whose service has this taxonomy term.")] = None,
    taxonomy_id: Annotated[Id, Query(description="Whose service has any term of this taxonomy.")] = None,
    organization_id: Annotated[Id, Query(description="Whose service this organization provides.")] = None,
    modified_after: ModifiedAfter = None,
    full: Full = False,
    page: PageNumber = 1,
    per_page: PerPage = 50,
    response_format: Format = "json",
    postcode: Annotated[
        PostalCode | None,
        Query(
            description="Only where the service's areas cover this postal code (or, for a service "
            "without postal-coded areas, where the location's address has it).",
        ),
    ] = None,
    proximity: Annotated[FreeText | None, Query(max_length=32, description="Not supported (422).")] = None,
) -> Page:
    """Services at locations whose service matches every filter, by service name. Each
    carries its `service` and `location` (one-to-one fields); `full` nests them as
    `/service_at_locations/{id}` does. `proximity` needs postcode centroids this directory
    does not have, so it is refused rather than ignored."""
    if proximity is not None:
        raise Unprocessable(
            "proximity search is not supported",
            errors=[{"field": "query.proximity", "message": "not supported", "code": "unsupported"}],
        )
    where = ServiceFilter(search, taxonomy_term_id, taxonomy_id, organization_id, _utc(modified_after), postcode)
    total, found = await queries.list_service_at_locations(session, where, Slice(page, per_page))
    if full:
        found = await nest(session, "service_at_location", found)
    else:
        found = await nest(session, "service_at_location", found, only=_SAL_LOCATION, deep=False)
    found = await nest(session, "service_at_location", found, only=_SAL_SERVICE, deep=False)
    return Page.of(found, total_items=total, page=page, per_page=per_page)


@router.get(
    "/service_at_locations/{id}",
    response_model=dict[str, Any],
    summary="A fully nested service at location",
    responses=problem_responses(404),
)
async def get_service_at_location(id: RecordId, session: ReadSession) -> Record:
    """The service at a location with its contacts, phones, schedules, nested `location` and
    its `service` (one-to-one fields), as HSDS's `compiled/service_at_location.json`."""
    found = await queries.record_of(session, "service_at_location", id)
    if found is None:
        raise NotFound(f"no service_at_location {id}")
    nested = await nest(session, "service_at_location", [found])
    return (await nest(session, "service_at_location", nested, only=_SAL_SERVICE, deep=False))[0]


@router.get("/taxonomies", response_model=Page, summary="Paginated list of taxonomies")
async def list_taxonomies(
    session: ReadSession,
    search: Search = None,
    page: PageNumber = 1,
    per_page: PerPage = 50,
    response_format: Format = "json",
) -> Page:
    """Taxonomies by name (Divert's own are `divert-needs` and `divert-jurisdictions`)."""
    total, found = await queries.list_taxonomies(session, search, Slice(page, per_page))
    return Page.of(found, total_items=total, page=page, per_page=per_page)


@router.get("/taxonomies/{id}", response_model=dict[str, Any], summary="A taxonomy", responses=problem_responses(404))
async def get_taxonomy(id: RecordId, session: ReadSession) -> Record:
    """The taxonomy, as HSDS's `taxonomy.json`."""
    return await _one(session, "taxonomy", id)


@router.get("/taxonomy_terms", response_model=Page, summary="Paginated list of taxonomy terms")
async def list_taxonomy_terms(
    session: ReadSession,
    search: Search = None,
    page: PageNumber = 1,
    per_page: PerPage = 50,
    response_format: Format = "json",
    taxonomy_id: Annotated[Id, Query(description="Terms of this taxonomy.")] = None,
    top_only: Annotated[bool, Query(description="Only top-level terms (terms without a parent).")] = False,
    parent_id: Annotated[Id, Query(description="Terms whose parent has this id.")] = None,
) -> Page:
    """Taxonomy terms matching every filter, by code, each with its `taxonomy_detail`."""
    where = TermFilter(search, taxonomy_id, parent_id, top_only)
    total, found = await queries.list_taxonomy_terms(session, where, Slice(page, per_page))
    found = await nest(session, "taxonomy_term", found)
    return Page.of(found, total_items=total, page=page, per_page=per_page)


@router.get(
    "/taxonomy_terms/{id}", response_model=dict[str, Any], summary="A taxonomy term", responses=problem_responses(404)
)
async def get_taxonomy_term(id: RecordId, session: ReadSession) -> Record:
    """The taxonomy term with its `taxonomy_detail`, as HSDS's `taxonomy_term.json`."""
    return await _one(session, "taxonomy_term", id)


async def _organizations(session: AsyncSession, found: list[Record], full_service: bool) -> list[Record]:
    """Organizations nested fully, each with its `services` (fully nested with `full_service`)."""
    services = Nested("services", "service", "organization_id")
    nested = await nest(session, "organization", found)
    return await nest(session, "organization", nested, only=(services,), deep=full_service)
