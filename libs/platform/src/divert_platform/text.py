"""Bounded strings: the text types of every API request and response.

Each string an API takes or gives has a length bound and a restriction its value must match, both
enforced by validation (not only documented): a caller's string cannot grow a stored row, a log
line or an answer without limit, and free text cannot carry control characters, which could forge
log lines or drive a terminal. Responses use the same types as the requests whose data they show
(and data from elsewhere is checked against them where it enters), so an answer never fails its
own model.

Use `Annotated[str, free_text(200)]` for text a person writes (names, notes, reasons), and the
narrower types below where the value has a shape.
"""

from typing import Annotated

from pydantic import StringConstraints

NO_CONTROL_CHARACTERS = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
"""Any text but control characters; tab, line feed and carriage return are allowed."""

IDENTIFIER_PATTERN = r"^[!-~]+$"
"""An identifier another system assigned: printable ASCII, no spaces."""

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"
"""A machine-readable code: letters, digits, `_`, `.`, `:` and `-`."""

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
"""A lower-case id such as a jurisdiction's (`king-county`)."""


def free_text(max_length: int, *, min_length: int = 0) -> StringConstraints:
    """Text a person writes, at most `max_length` characters, without control characters."""
    return StringConstraints(min_length=min_length, max_length=max_length, pattern=NO_CONTROL_CHARACTERS)


FreeText = Annotated[str, free_text(4000)]
"""Free text up to 4,000 characters (notes)."""

Name = Annotated[str, free_text(200)]
"""A name of a person, organisation, service or place, up to 200 characters."""

Code = Annotated[str, StringConstraints(max_length=100, pattern=CODE_PATTERN)]
"""A code from a closed but configurable set (reason codes, event types, taxonomy codes)."""

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=IDENTIFIER_PATTERN)]
"""An opaque identifier another system assigned (e.g. an HSDS id, a case manager's id)."""

JurisdictionId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=SLUG_PATTERN)]
"""A jurisdiction's id, e.g. `king-county`."""
