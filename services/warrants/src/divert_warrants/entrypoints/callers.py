"""Who may call warrants, and which requests each caller sees (docs/access.md).

Only intake's deadline worker raises requests (the `deadline_worker` role, given to that one
process): not the generic `service` role, which other integrations (directory importers) hold too.
Even then warrants trusts none of the facts it sends, only its own record of the referral
(`service_layer/handlers.py`). Prosecutors and courts read and acknowledge requests of their
token's jurisdiction, or of all of them with `jurisdiction: "*"`; prosecutors record what they did
with them; program managers read their jurisdiction's. A token without `jurisdiction` is refused
(403), never read as "all".
"""

from typing import Annotated

from fastapi import Depends

from divert_platform.auth import Principal, allow, covers_all_jurisdictions
from divert_platform.problems import Forbidden

DeadlineWorker = Annotated[Principal, Depends(allow("deadline_worker"))]
"""Intake's deadline worker, the one process that tells warrants of a lapse."""
Reader = Annotated[Principal, Depends(allow("prosecutor", "court", "program_manager"))]
"""A prosecutor, court or program manager."""
Acknowledger = Annotated[Principal, Depends(allow("prosecutor", "court"))]
"""A prosecutor or court, who act on requests outside Divert."""
Prosecutor = Annotated[Principal, Depends(allow("prosecutor"))]
"""A prosecutor, who records what was done with a request (its disposition)."""


def jurisdiction_scope(principal: Principal) -> str | None:
    """The one jurisdiction whose requests the caller may see, or None for all of them.

    Every reader's token names its jurisdiction (`allow` refuses one without); only a
    prosecutor's or court's `jurisdiction: "*"` (a state-wide office) is all of them. A missing
    claim is never read as "all".
    """
    if covers_all_jurisdictions(principal):
        return None
    if not principal.jurisdiction:  # unreachable past `allow`; refuse rather than widen
        raise Forbidden("the token must name its jurisdiction (`jurisdiction` claim)", claim="jurisdiction")
    return principal.jurisdiction


def may_see(principal: Principal, jurisdiction: str) -> bool:
    """Whether a request of `jurisdiction` is within the caller's scope."""
    return jurisdiction_scope(principal) in (None, jurisdiction)
