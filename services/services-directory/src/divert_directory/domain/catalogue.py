"""What matching and service referrals need to know of the HSDS catalogue, and nothing more.

The catalogue itself (organizations, services, locations, taxonomies as Open Referral HSDS 3.0)
lives in `adapters/`; matching and closed-loop referrals read it only through `Catalogue`, so the
two halves of the service can change independently.
"""

from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession


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


class Catalogue(Protocol):
    """Read access to the catalogue, inside the caller's session (and so its transaction)."""

    async def offer(self, session: AsyncSession, service_id: UUID) -> ServiceOffer | None:
        """The service with this id, whatever its status, or None."""
        ...

    async def offers_in(self, session: AsyncSession, jurisdiction: str) -> list[ServiceOffer]:
        """Every `active` service serving `jurisdiction`."""
        ...
