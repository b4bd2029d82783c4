"""The HSDS 3.0 object types the catalogue stores: their fields, the types of those fields, and
how the objects nest in the API's responses.

Field lists follow the standard's `schema/*.json` (Open Referral HSDS 3.0); only one-to-one
fields are listed, because arrays and nested objects are separate tables in tabular HSDS.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """How a field's value is checked and, from CSV, converted."""

    TEXT = "text"
    UUID = "uuid"
    NUMBER = "number"
    URI = "uri"
    EMAIL = "email"
    DATETIME = "date-time"


Field = Kind | tuple[str, ...]
"""A kind, or the allowed values of an enumerated text field."""

T, U, N, URI, EMAIL = Kind.TEXT, Kind.UUID, Kind.NUMBER, Kind.URI, Kind.EMAIL
LOCATION_TYPES = ("physical", "postal", "virtual")
SERVICE_STATUSES = ("active", "inactive", "defunct", "temporarily closed")


@dataclass(frozen=True)
class ObjectType:
    """One HSDS object type: a CSV file in a datapackage, a table in the catalogue."""

    name: str
    csv: str
    fields: Mapping[str, Field]
    required: tuple[str, ...] = ("id",)

    @property
    def table(self) -> str:
        """The catalogue table holding objects of this type."""
        stem = self.csv.removesuffix(".csv")
        # the standard's one singular file name; its table is named like all the others
        return "hsds_" + ("service_at_locations" if stem == "service_at_location" else stem)

    @property
    def links(self) -> tuple[str, ...]:
        """Fields holding the id of another object (stored as indexed columns)."""
        return tuple(name for name, kind in self.fields.items() if kind is Kind.UUID and name != "id")


def _type(name: str, csv: str, required: tuple[str, ...] = ("id",), /, **fields: Field) -> ObjectType:
    return ObjectType(name, csv, {"id": U, **fields}, required)


OBJECT_TYPES: tuple[ObjectType, ...] = (
    _type(
        "organization", "organizations.csv", ("id", "name", "description"),
        name=T, alternate_name=T, description=T, email=EMAIL, website=URI, tax_status=T, tax_id=T,
        year_incorporated=N, legal_status=T, logo=T, uri=URI, parent_organization_id=U,
    ),
    _type("program", "programs.csv", ("id", "name", "description"), organization_id=U, name=T, alternate_name=T,
          description=T),
    _type(
        "service", "services.csv", ("id", "name", "status"),
        organization_id=U, program_id=U, name=T, alternate_name=T, description=T, url=URI, email=EMAIL,
        status=SERVICE_STATUSES, interpretation_services=T, application_process=T, fees_description=T,
        wait_time=T, fees=T, accreditations=T, eligibility_description=T, minimum_age=N, maximum_age=N,
        assured_date=T, assurer_email=EMAIL, licenses=T, alert=T, last_modified=Kind.DATETIME,
    ),
    _type(
        "location", "locations.csv", ("id", "location_type"),
        location_type=LOCATION_TYPES, url=URI, organization_id=U, name=T, alternate_name=T, description=T,
        transportation=T, latitude=N, longitude=N, external_identifier=T, external_identifier_type=T,
    ),
    _type(
        "address", "addresses.csv", ("id", "address_1", "city", "state_province", "postal_code", "country",
                                     "address_type"),
        location_id=U, attention=T, address_1=T, address_2=T, city=T, region=T, state_province=T, postal_code=T,
        country=T, address_type=LOCATION_TYPES,
    ),
    _type("service_at_location", "service_at_location.csv", service_id=U, location_id=U, description=T),
    _type("service_area", "service_areas.csv", service_id=U, name=T, description=T, extent=T, extent_type=T, uri=T),
    _type(
        "phone", "phones.csv", ("id", "number"),
        location_id=U, service_id=U, organization_id=U, contact_id=U, service_at_location_id=U, number=T,
        extension=N, type=T, description=T,
    ),
    _type(
        "schedule", "schedules.csv",
        service_id=U, location_id=U, service_at_location_id=U, valid_from=T, valid_to=T, dtstart=T, timezone=N,
        until=T, count=N, wkst=("MO", "TU", "WE", "TH", "FR", "SA", "SU"), freq=("WEEKLY", "MONTHLY"), interval=N,
        byday=T, byweekno=T, bymonthday=T, byyearday=T, description=T, opens_at=T, closes_at=T, schedule_link=URI,
        attending_type=T, notes=T,
    ),
    _type(
        "contact", "contacts.csv",
        organization_id=U, service_id=U, service_at_location_id=U, location_id=U, name=T, title=T, department=T,
        email=EMAIL,
    ),
    _type("language", "languages.csv", service_id=U, location_id=U, phone_id=U, name=T, code=T, note=T),
    _type("funding", "funding.csv", organization_id=U, service_id=U, source=T),
    _type(
        "cost_option", "cost_options.csv",
        service_id=U, valid_from=T, valid_to=T, option=T, currency=T, amount=N, amount_description=T,
    ),
    _type("required_document", "required_documents.csv", service_id=U, document=T, uri=URI),
    _type("accessibility", "accessibility.csv", location_id=U, description=T, details=T, url=URI),
    _type(
        "organization_identifier", "organization_identifiers.csv", ("id", "identifier_type", "identifier"),
        organization_id=U, identifier_scheme=T, identifier_type=T, identifier=T,
    ),
    _type("taxonomy", "taxonomies.csv", ("id", "name", "description"), name=T, description=T, uri=URI, version=T),
    _type(
        "taxonomy_term", "taxonomy_terms.csv", ("id", "name", "description"),
        code=T, name=T, description=T, parent_id=U, taxonomy=T, language=T, taxonomy_id=U, term_uri=URI,
    ),
    _type("attribute", "attributes.csv", link_id=U, taxonomy_term_id=U, link_type=T, link_entity=T, value=T),
    _type(
        "metadata", "metadata.csv",
        ("id", "last_action_date", "last_action_type", "field_name", "previous_value", "replacement_value",
         "updated_by"),
        resource_id=U, resource_type=T, last_action_date=T, last_action_type=T, field_name=T, previous_value=T,
        replacement_value=T, updated_by=T,
    ),
    _type("meta_table_description", "meta_table_descriptions.csv", name=T, language=T, character_set=T),
)  # fmt: skip

BY_NAME: dict[str, ObjectType] = {object_type.name: object_type for object_type in OBJECT_TYPES}
BY_CSV: dict[str, ObjectType] = {object_type.csv: object_type for object_type in OBJECT_TYPES}


@dataclass(frozen=True)
class Nested:
    """A property of an object holding related objects: an array of children (whose `link`
    names the parent) or, with `many=False`, the one object the parent's `link` names."""

    property: str
    type: str
    link: str
    many: bool = True


# How HSDS nests objects in its API (schema/compiled/*.json). `attributes` and `metadata` are
# added to every object on top of these.
NESTING: dict[str, tuple[Nested, ...]] = {
    "service": (
        Nested("phones", "phone", "service_id"),
        Nested("schedules", "schedule", "service_id"),
        Nested("service_areas", "service_area", "service_id"),
        Nested("service_at_locations", "service_at_location", "service_id"),
        Nested("languages", "language", "service_id"),
        Nested("organization", "organization", "organization_id", many=False),
        Nested("funding", "funding", "service_id"),
        Nested("cost_options", "cost_option", "service_id"),
        Nested("program", "program", "program_id", many=False),
        Nested("required_documents", "required_document", "service_id"),
        Nested("contacts", "contact", "service_id"),
    ),
    "organization": (
        Nested("funding", "funding", "organization_id"),
        Nested("contacts", "contact", "organization_id"),
        Nested("phones", "phone", "organization_id"),
        Nested("locations", "location", "organization_id"),
        Nested("programs", "program", "organization_id"),
        Nested("organization_identifiers", "organization_identifier", "organization_id"),
    ),
    "service_at_location": (
        Nested("contacts", "contact", "service_at_location_id"),
        Nested("phones", "phone", "service_at_location_id"),
        Nested("schedules", "schedule", "service_at_location_id"),
        Nested("location", "location", "location_id", many=False),
    ),
    "location": (
        Nested("languages", "language", "location_id"),
        Nested("addresses", "address", "location_id"),
        Nested("contacts", "contact", "location_id"),
        Nested("accessibility", "accessibility", "location_id"),
        Nested("phones", "phone", "location_id"),
        Nested("schedules", "schedule", "location_id"),
    ),
    "contact": (Nested("phones", "phone", "contact_id"),),
    "phone": (Nested("languages", "language", "phone_id"),),
    "attribute": (Nested("taxonomy_term", "taxonomy_term", "taxonomy_term_id", many=False),),
    "taxonomy_term": (Nested("taxonomy_detail", "taxonomy", "taxonomy_id", many=False),),
}

UNNESTED = frozenset({"attribute", "metadata", "taxonomy", "taxonomy_term", "meta_table_description"})
"""Types given no `attributes`/`metadata` arrays: so an attribute's term never nests attributes again."""
