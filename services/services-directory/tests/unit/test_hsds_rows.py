"""HSDS rows checked and typed, service-area postal codes, and the `Page` maths (no database)."""

import pytest

from divert_directory.adapters.catalogue_store import postal_codes_of
from divert_directory.domain.hsds_rows import InvalidRow, from_csv, from_json
from divert_directory.domain.hsds_tables import BY_NAME
from divert_directory.entrypoints.schemas import Page

SERVICE = BY_NAME["service"]
ORG = "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"


def test_csv_cells_become_typed_fields_and_empty_ones_disappear() -> None:
    record = from_csv(
        SERVICE,
        {"id": "AC148810-D857-441C-9679-408F346DE14B", "organization_id": ORG, "name": " Meals ", "status": "active",
         "minimum_age": "18", "maximum_age": "64.5", "alert": "", "x_extension": "kept"},
    )  # fmt: skip

    assert record == {
        "id": "ac148810-d857-441c-9679-408f346de14b",
        "organization_id": ORG,
        "name": "Meals",
        "status": "active",
        "minimum_age": 18,
        "maximum_age": 64.5,
        "x_extension": "kept",
    }


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"id": "42"}, "id must be a UUID"),
        ({"status": "open"}, "status must be one of active, inactive, defunct, temporarily closed"),
        ({"minimum_age": "eighteen"}, "minimum_age must be a number"),
        ({"minimum_age": "nan"}, "minimum_age must be a finite number"),
        ({"email": "nobody"}, "email must be an email address"),
        ({"url": "example.org"}, "url must be an absolute URI"),
        ({"last_modified": "2024-01-01"}, "last_modified must be an ISO 8601 date-time with a time zone"),
        ({"name": ""}, "missing required field(s): name"),
        ({"organization_id": ""}, "missing required field(s): organization_id"),
    ],
)
def test_a_bad_row_says_what_is_wrong(change: dict[str, str], reason: str) -> None:
    cells = {"id": "ac148810-d857-441c-9679-408f346de14b", "organization_id": ORG, "name": "A", "status": "active"}

    with pytest.raises(InvalidRow, match=reason.replace("(", r"\(").replace(")", r"\)")):
        from_csv(SERVICE, cells | change)


def test_json_objects_keep_their_own_fields_only() -> None:
    record = from_json(
        SERVICE,
        {"id": "ac148810-d857-441c-9679-408f346de14b", "organization_id": ORG, "name": "A", "status": "active",
         "minimum_age": 12, "phones": [{"id": "x"}], "organization": {"id": ORG}, "alert": None},
    )  # fmt: skip

    assert set(record) == {"id", "organization_id", "name", "status", "minimum_age"}
    with pytest.raises(InvalidRow, match="minimum_age must be a number"):
        from_json(SERVICE, record | {"minimum_age": "12"})


@pytest.mark.parametrize(
    ("area", "codes"),
    [
        ({"extent_type": "text", "extent": "98101, 98104;98101\n98122"}, ["98101", "98104", "98122"]),
        ({"extent_type": "TEXT", "extent": "ab1 2cd,AB3 4EF"}, ["AB1 2CD", "AB3 4EF"]),
        ({"extent_type": "text", "extent": "All of the city"}, []),
        ({"extent_type": "geojson", "extent": "98101"}, []),
        ({"extent": "98101"}, []),
    ],
)
def test_postal_codes_of_a_service_area(area: dict[str, str], codes: list[str]) -> None:
    assert postal_codes_of(area) == codes


@pytest.mark.parametrize(
    ("total", "page", "per_page", "on_page", "expected"),
    [
        (0, 1, 10, 0, (0, True, True, True)),
        (10, 1, 10, 10, (1, True, True, False)),
        (11, 1, 10, 10, (2, True, False, False)),
        (11, 2, 10, 1, (2, False, True, False)),
        (11, 3, 10, 0, (2, False, True, True)),
    ],
)
def test_page_maths(total: int, page: int, per_page: int, on_page: int, expected: tuple[int, bool, bool, bool]) -> None:
    body = Page.of([{"id": str(n)} for n in range(on_page)], total_items=total, page=page, per_page=per_page)

    assert (body.total_pages, body.first_page, body.last_page, body.empty) == expected
    assert (body.size, body.page_number, body.total_items) == (on_page, page, total)
