"""The HSDS API: every response validates against the standard's schemas, filters are ANDed,
pages add up, and errors are problem+json."""

from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from divert_directory.bootstrap import Directory

Check = Any
EXAMPLE_SERVICE = "ac148810-d857-441c-9679-408f346de14b"
EXAMPLE_ORGANIZATION = "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"
EXAMPLE_SAL = "e94c9f38-1e8f-4564-91d4-d53501ab1765"
EXAMPLE_TAXONOMY = "5c4d79d7-cc55-470e-9f1f-8cad074e4892"
EXAMPLE_TERM = "3f7b145d-84af-42d7-8fae-eaca714b02b2"


@pytest.fixture
async def example(hsds: Path, directory: Directory, load: Any) -> Directory:
    """The standard's example datapackage and its nested service imported (every table filled)."""
    for source in ("examples/csv", "examples/service_full.json"):
        report = await load(hsds / source)
        assert report.ok, report.errors
    return directory


async def get(client: httpx.AsyncClient, url: str, **params: Any) -> Any:
    response = await client.get(url, params=params)
    assert response.status_code == 200, response.text
    return response.json()


LISTS = [
    ("/services", "service_list", {}),
    ("/services", "service", {"full": "true"}),
    ("/services", "service_list", {"minimal": "true"}),
    ("/organizations", "organization_list", {}),
    ("/organizations", "organization", {"full": "true"}),
    ("/organizations", "organization", {"full": "true", "full_service": "true"}),
    ("/service_at_locations", "service_at_location_list", {}),
    ("/service_at_locations", "service_at_location", {"full": "true"}),
    ("/taxonomies", "taxonomy", {}),
    ("/taxonomy_terms", "taxonomy_term", {}),
]


@pytest.mark.parametrize(("url", "schema", "params"), LISTS)
async def test_lists_of_the_example_are_valid_hsds_pages(
    example: Directory, client: httpx.AsyncClient, conforms_page: Check, url: str, schema: str, params: dict[str, str]
) -> None:
    page = await get(client, url, **params)

    conforms_page(schema, page)
    assert page["total_items"] >= 1 and page["contents"]


ITEMS = [
    (f"/services/{EXAMPLE_SERVICE}", "service"),
    (f"/organizations/{EXAMPLE_ORGANIZATION}", "organization"),
    (f"/organizations/{EXAMPLE_ORGANIZATION}?full_service=true", "organization"),
    (f"/service_at_locations/{EXAMPLE_SAL}", "service_at_location"),
    (f"/taxonomies/{EXAMPLE_TAXONOMY}", "taxonomy"),
    (f"/taxonomy_terms/{EXAMPLE_TERM}", "taxonomy_term"),
]


@pytest.mark.parametrize(("url", "schema"), ITEMS)
async def test_items_of_the_example_are_valid_hsds_objects(
    example: Directory, client: httpx.AsyncClient, conforms: Check, url: str, schema: str
) -> None:
    conforms(schema, await get(client, url))


async def test_a_full_service_nests_what_the_standard_nests(example: Directory, client: httpx.AsyncClient) -> None:
    service = await get(client, f"/services/{EXAMPLE_SERVICE}")

    assert service["organization"]["id"] == EXAMPLE_ORGANIZATION
    (at_location,) = service["service_at_locations"]
    assert at_location["location"]["addresses"][0]["postal_code"] == "ABC 1234"
    assert service["phones"] and service["schedules"] and service["service_areas"] and service["languages"]
    assert service["attributes"][0]["taxonomy_term"]["taxonomy_detail"]["id"] == EXAMPLE_TAXONOMY
    assert {"funding", "cost_options", "required_documents", "contacts", "metadata"} <= set(service)


async def test_the_seed_validates_everywhere(
    seeded: Directory, client: httpx.AsyncClient, conforms_page: Check
) -> None:
    for url, schema, params in LISTS:
        conforms_page(schema, await get(client, url, per_page=1000, **params))


async def test_minimal_services_carry_only_ids_names_statuses_and_times(
    seeded: Directory, client: httpx.AsyncClient
) -> None:
    page = await get(client, "/services", minimal="true", full="true", per_page=1000)

    assert {frozenset(item) for item in page["contents"]} == {frozenset({"id", "name", "status", "last_modified"})}


async def test_filters_are_anded(seeded: Directory, client: httpx.AsyncClient) -> None:
    terms = (await get(client, "/taxonomy_terms", per_page=100))["contents"]
    housing = next(t["id"] for t in terms if t["code"] == "housing")
    king_county = next(t["id"] for t in terms if t["code"] == "king-county")
    needs = next(t["taxonomy_id"] for t in terms if t["code"] == "housing")

    housing_services = await get(client, "/services", taxonomy_term_id=housing, per_page=100)
    in_king_county = await get(client, "/services", taxonomy_term_id=king_county, per_page=100)
    both = await get(client, "/services", taxonomy_term_id=housing, search="rainier", per_page=100)
    organization = both["contents"][0]["organization_id"]
    narrowest = await get(
        client, "/services", search="shelter", taxonomy_id=needs, organization_id=organization, per_page=100
    )

    ids = {name: {s["id"] for s in page["contents"]} for name, page in
           [("housing", housing_services), ("king", in_king_county), ("both", both)]}  # fmt: skip
    assert ids["both"] and ids["both"] < ids["housing"] and ids["both"] < ids["king"]
    assert [s["name"] for s in narrowest["contents"]] == ["Rainier Shelter and Housing Navigation"]
    assert all(s["organization"]["id"] == organization for s in narrowest["contents"])


async def test_modified_after(example: Directory, client: httpx.AsyncClient) -> None:
    # the example's service was last modified 2023-03-15T10:30:45.123Z
    before = await get(client, "/services", modified_after="2023-03-15T10:30:00Z")
    after = await get(client, "/services", modified_after="2023-03-15T11:00:00+00:00")
    naive = await get(client, "/service_at_locations", modified_after="2023-03-15T10:30:00")

    assert before["total_items"] == 1 and after["total_items"] == 0 and naive["total_items"] == 1


async def test_postcode_matches_service_areas_or_the_locations_address(
    seeded: Directory, example: Directory, client: httpx.AsyncClient
) -> None:
    seattle = await get(client, "/service_at_locations", postcode="98104", per_page=100)
    santa_fe = await get(client, "/service_at_locations", postcode="87501", per_page=100)
    # the example's service has no postal-coded area, so its location's address decides
    by_address = await get(client, "/service_at_locations", postcode="abc 1234")

    assert seattle["total_items"] == 11 and santa_fe["total_items"] == 11
    assert all(item["service"]["name"].startswith("Rainier") for item in seattle["contents"])
    assert [item["id"] for item in by_address["contents"]] == [EXAMPLE_SAL]


async def test_taxonomy_term_filters(seeded: Directory, client: httpx.AsyncClient) -> None:
    taxonomies = (await get(client, "/taxonomies"))["contents"]
    needs = next(t["id"] for t in taxonomies if t["name"] == "divert-needs")

    of_needs = await get(client, "/taxonomy_terms", taxonomy_id=needs, top_only="true", per_page=100)
    children = await get(client, "/taxonomy_terms", parent_id=str(uuid4()))

    assert len(of_needs["contents"]) == 11
    assert all(term["taxonomy_detail"]["name"] == "divert-needs" for term in of_needs["contents"])
    assert children["total_items"] == 0 and children["empty"]


@pytest.mark.parametrize(
    ("page", "per_page", "size", "first", "last"),
    [(1, 20, 20, True, False), (3, 20, 6, False, True), (4, 20, 0, False, True), (1, 46, 46, True, True)],
)
async def test_pagination(
    seeded: Directory, client: httpx.AsyncClient, page: int, per_page: int, size: int, first: bool, last: bool
) -> None:
    body = await get(client, "/services", page=page, per_page=per_page)

    assert body["total_items"] == 46
    assert body["total_pages"] == -(-46 // per_page)
    assert (body["page_number"], body["size"], len(body["contents"])) == (page, size, size)
    assert (body["first_page"], body["last_page"], body["empty"]) == (first, last, size == 0)


async def test_pages_together_hold_every_service_once(seeded: Directory, client: httpx.AsyncClient) -> None:
    pages = [await get(client, "/services", page=n, per_page=7) for n in range(1, 8)]

    ids = [service["id"] for page in pages for service in page["contents"]]
    assert len(ids) == len(set(ids)) == 46


async def test_an_empty_catalogue_has_no_pages(directory: Directory, client: httpx.AsyncClient) -> None:
    body = await get(client, "/services")

    assert (body["total_items"], body["total_pages"], body["size"], body["empty"]) == (0, 0, 0, True)


@pytest.mark.parametrize(
    "url", ["/services", "/organizations", "/service_at_locations", "/taxonomies", "/taxonomy_terms"]
)
async def test_unknown_ids_are_404_problems(directory: Directory, client: httpx.AsyncClient, url: str) -> None:
    for missing in (str(uuid4()), "not-a-uuid"):
        response = await client.get(f"{url}/{missing}")

        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 404


@pytest.mark.parametrize(
    "params",
    [
        {"page": "0"},
        {"per_page": "0"},
        {"per_page": "1001"},
        {"format": "ndjson"},
        {"modified_after": "yesterday"},
        {"minimal": "maybe"},
    ],
)
async def test_bad_parameters_are_422_problems(
    directory: Directory, client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    response = await client.get("/services", params=params)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"].startswith("query.")


async def test_proximity_is_refused_not_ignored(directory: Directory, client: httpx.AsyncClient) -> None:
    response = await client.get("/service_at_locations", params={"postcode": "98104", "proximity": "500"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.proximity"


async def test_catalogue_reads_need_a_token_and_a_reading_role(directory: Directory, bearer: Any) -> None:
    from divert_directory.entrypoints.api import build_api

    transport = httpx.ASGITransport(app=build_api(directory))
    async with httpx.AsyncClient(transport=transport, base_url="http://directory.test") as anonymous:
        assert (await anonymous.get("/services")).status_code == 401
        assert (await anonymous.get("/")).status_code == 200
        for role in ("case_manager", "program_manager", "officer", "service"):
            assert (await anonymous.get("/taxonomies", headers=bearer(role))).status_code == 200, role
        for role in ("prosecutor", "court", "ops"):
            assert (await anonymous.get("/taxonomies", headers=bearer(role))).status_code == 403, role


async def test_modified_after_compares_instants_whatever_their_offsets(
    directory: Directory, load: Any, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    source = tmp_path / "service.json"
    source.write_text(
        '{"id": "6a3c2f0e-0000-4000-8000-000000000030", "name": "Late", "status": "active",'
        ' "organization_id": "6a3c2f0e-0000-4000-8000-000000000031", "last_modified": "2024-06-01T12:00:00+02:00"}'
    )
    await load(source)

    # 12:00 at +02:00 is 10:00 UTC
    assert (await get(client, "/services", modified_after="2024-06-01T09:59:00Z"))["total_items"] == 1
    assert (await get(client, "/services", modified_after="2024-06-01T11:01:00+01:00"))["total_items"] == 0
    assert (await get(client, "/services", modified_after="2024-06-01T06:00:00-04:00"))["total_items"] == 1
