"""Who may call warrants, and which requests each caller sees (docs/access.md).

Only intake's deadline worker raises requests (the `deadline_worker` role, given to that one
process): not the generic `service` role, which other integrations (directory importers) hold too.
Even then warrants trusts none of the facts it sends, only its own record of the referral
(`service_layer/handlers.py`). Prosecutors and courts read and acknowledge requests; program
managers read their jurisdiction's.
"""

from typing import Annotated

from fastapi import Depends

from divert_platform.auth import Principal, allow

DeadlineWorker = Annotated[Principal, Depends(allow("deadline_worker"))]
"""Intake's deadline worker, the one process that tells warrants of a lapse."""
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
