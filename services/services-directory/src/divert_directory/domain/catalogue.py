"""What matching and service referrals need to know of an HSDS service, and nothing more.

The catalogue itself (organizations, services, locations, taxonomies as Open Referral HSDS 3.0)
lives in `adapters/`; matching and closed-loop referrals read it only as `ServiceOffer`s, through
the `Catalogue` port (`service_layer/ports.py`), so the two halves of the service can change
independently.
"""

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class ServiceOffer:
    """One HSDS service as a case manager's suggestion sees it."""

    service_id: UUID
    name: str
    organization_id: UUID
    organization_name: str
    status: str
    """HSDS `service.status`: active, inactive, defunct or temporarily closed."""
    taxonomy_term_codes: frozenset[str]
    """Codes of the taxonomy terms attached to the service (HSDS `attribute` rows)."""
    jurisdictions: frozenset[str]
    """Divert jurisdiction ids (`king-county`, ...) whose people the service serves."""
    postal_codes: frozenset[str]
    """Postal codes the service's areas cover; empty means the whole of its jurisdictions."""
