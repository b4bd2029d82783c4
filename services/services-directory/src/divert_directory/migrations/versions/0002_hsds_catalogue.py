"""The Open Referral HSDS 3.0 catalogue: one table per HSDS object type.

Each table keeps the whole HSDS record (its one-to-one fields) as JSON, plus as real, indexed
columns the ids linking it to other objects and the fields the API filters on. Links are not
foreign keys: HSDS datasets are routinely partial (the standard's own example points at objects
it does not include), and a catalogue must still take them.

Revision ID: 0002
Revises: 0001
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# table → its link columns (frozen here: later changes to the code must not rewrite this revision)
LINKS: dict[str, tuple[str, ...]] = {
    "hsds_organizations": ("parent_organization_id",),
    "hsds_programs": ("organization_id",),
    "hsds_services": ("organization_id", "program_id"),
    "hsds_locations": ("organization_id",),
    "hsds_addresses": ("location_id",),
    "hsds_service_at_locations": ("service_id", "location_id"),
    "hsds_service_areas": ("service_id",),
    "hsds_phones": ("location_id", "service_id", "organization_id", "contact_id", "service_at_location_id"),
    "hsds_schedules": ("service_id", "location_id", "service_at_location_id"),
    "hsds_contacts": ("organization_id", "service_id", "service_at_location_id", "location_id"),
    "hsds_languages": ("service_id", "location_id", "phone_id"),
    "hsds_funding": ("organization_id", "service_id"),
    "hsds_cost_options": ("service_id",),
    "hsds_required_documents": ("service_id",),
    "hsds_accessibility": ("location_id",),
    "hsds_organization_identifiers": ("organization_id",),
    "hsds_taxonomies": (),
    "hsds_taxonomy_terms": ("parent_id", "taxonomy_id"),
    "hsds_attributes": ("link_id", "taxonomy_term_id"),
    "hsds_metadata": ("resource_id",),
    "hsds_meta_table_descriptions": (),
}


def _filter_columns(table: str) -> list[sa.Column[Any]]:
    """Columns the API filters or searches on, beyond the links."""
    search: sa.Column[Any] = sa.Column("search_text", sa.Text)
    columns: dict[str, list[sa.Column[Any]]] = {
        "hsds_organizations": [sa.Column("name", sa.Text), search],
        "hsds_services": [
            sa.Column("name", sa.Text),
            sa.Column("status", sa.String(32), nullable=False),
            sa.Column("last_modified", sa.DateTime(timezone=True), nullable=False),
            search,
        ],
        "hsds_addresses": [sa.Column("postal_code", sa.String(64))],
        "hsds_taxonomies": [sa.Column("name", sa.Text), search],
        "hsds_taxonomy_terms": [sa.Column("code", sa.Text), sa.Column("name", sa.Text), search],
    }
    return columns.get(table, [])


def upgrade() -> None:
    for table, links in LINKS.items():
        op.create_table(
            table,
            sa.Column("id", sa.String(36), primary_key=True),
            sa.Column("record", sa.JSON, nullable=False),
            *(sa.Column(link, sa.String(36)) for link in links),
            *_filter_columns(table),
        )
        for link in links:
            op.create_index(f"ix_{table}_{link}", table, [link])
    op.create_index("ix_hsds_services_last_modified", "hsds_services", ["last_modified"])
    op.create_index("ix_hsds_addresses_postal_code", "hsds_addresses", ["postal_code"])
    op.create_index("ix_hsds_taxonomies_name", "hsds_taxonomies", ["name"])
    op.create_index("ix_hsds_taxonomy_terms_code", "hsds_taxonomy_terms", ["code"])
    # postal codes each service area covers (read from its `extent`, see adapters/catalogue_rows.py)
    op.create_table(
        "hsds_service_area_postal_codes",
        sa.Column("service_area_id", sa.String(36), primary_key=True),
        sa.Column("postal_code", sa.String(64), primary_key=True),
        sa.Column("service_id", sa.String(36)),
    )
    op.create_index("ix_hsds_service_area_postal_codes_service", "hsds_service_area_postal_codes", ["service_id"])
    op.create_index("ix_hsds_service_area_postal_codes_code", "hsds_service_area_postal_codes", ["postal_code"])


def downgrade() -> None:
    op.drop_table("hsds_service_area_postal_codes")
    for table in reversed(LINKS):
        op.drop_table(table)
