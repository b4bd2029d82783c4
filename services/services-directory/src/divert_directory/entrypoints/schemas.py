"""Response bodies of the directory's REST API, shaped as Open Referral HSDS 3.0 defines them."""

from typing import Any

from pydantic import BaseModel, Field

from divert_platform.text import CODE_PATTERN

MAX_PER_PAGE = 1000
"""The largest `per_page` of a list."""
MAX_PAGE_NUMBER = 1_000_000
MAX_ITEMS = MAX_PAGE_NUMBER * MAX_PER_PAGE
MAX_URL = 16_384
"""A URL built from the request's own base URL: the server refuses request heads larger than this."""


class HsdsRoot(BaseModel):
    """HSDS 3.0 `GET /`: which HSDS version and profile this API follows, and where its OpenAPI is."""

    version: str = Field(max_length=32, pattern=CODE_PATTERN, description="HSDS version of this API.")
    profile: str = Field(
        max_length=2000,
        json_schema_extra={"format": "uri"},
        description="URL of the information on the HSDS profile of this API.",
    )
    openapi_url: str = Field(
        max_length=MAX_URL,
        json_schema_extra={"format": "uri"},
        description="URL of the openapi JSON file which defines this API.",
    )


class Page(BaseModel):
    """An HSDS 3.0 page of results (`#/components/schemas/Page` plus `contents`).

    Pages are numbered from 1; `size` is the number of items on this page; `total_pages` is 0
    when nothing matches, and a page past the last is `empty`."""

    total_items: int = Field(ge=0, le=MAX_ITEMS, description="Count of total results.")
    total_pages: int = Field(ge=0, le=MAX_ITEMS, description="Count of total pages.")
    page_number: int = Field(ge=1, le=MAX_PAGE_NUMBER, description="Current page number.")
    size: int = Field(ge=0, le=MAX_PER_PAGE, description="Size of current page (the number of items in `contents`).")
    first_page: bool = Field(description="Is this page the first page.")
    last_page: bool = Field(description="Is this page the last page.")
    empty: bool = Field(description="Is this page empty.")
    contents: list[dict[str, Any]] = Field(max_length=MAX_PER_PAGE, description="The HSDS objects on this page.")

    @classmethod
    def of(cls, contents: list[dict[str, Any]], *, total_items: int, page: int, per_page: int) -> "Page":
        """The page numbered `page` (from 1) of `total_items` results, `per_page` at a time."""
        total_pages = -(-total_items // per_page)
        return cls(
            total_items=total_items,
            total_pages=total_pages,
            page_number=page,
            size=len(contents),
            first_page=page == 1,
            last_page=page >= total_pages,
            empty=not contents,
            contents=contents,
        )
