"""Who may call warrants, and which requests each caller sees (docs/access.md).

Only Divert services raise requests (intake's deadline workflow, with its service token);
prosecutors and courts read and acknowledge them; program managers read their jurisdiction's.
"""

from typing import Annotated

from fastapi import Depends

from divert_platform.auth import Principal, allow

Service = Annotated[Principal, Depends(allow("service"))]
"""A Divert service (intake's deadline workflow)."""
Reader = Annotated[Principal, Depends(allow("prosecutor", "court", "program_manager"))]
"""A prosecutor, court or program manager."""
Acknowledger = Annotated[Principal, Depends(allow("prosecutor", "court"))]
"""A prosecutor or court, who act on requests outside Divert."""


def jurisdiction_scope(principal: Principal) -> str | None:
    """The one jurisdiction whose requests the caller may see, or None for all of them.

    A program manager sees its jurisdiction's (its token always names one); a prosecutor or
    court sees every jurisdiction unless its token names one.
    """
    return principal.jurisdiction


def may_see(principal: Principal, jurisdiction: str) -> bool:
    """Whether a request of `jurisdiction` is within the caller's scope."""
    return jurisdiction_scope(principal) in (None, jurisdiction)
