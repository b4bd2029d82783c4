"""Who may call assessment, and who is acting (docs/access.md; DOMAIN.md §5).

Case content — contact details, needs, consents, the timeline — goes only to case managers, and
only of the case agency that owns the case. Program managers get counts and audit trails of
their own jurisdiction. Officers, prosecutors and courts are admitted by no route here (LEAD's
golden rule): importing this module fails if a route role list ever includes one of them.

Every change is attributed to the caller's verified token (`Principal.metadata()`: actor, role,
agency), never to what a request body claims.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends

from divert_platform.auth import PEOPLE_WHO_MAY_NEVER_SEE_CASE_CONTENT, Access, Principal, Role
from divert_platform.problems import Forbidden

CASE_ROLES: tuple[Role, ...] = ("case_manager",)
"""Roles admitted by every `/v1/cases` route, disclosures included."""
PROGRAM_ROLES: tuple[Role, ...] = ("program_manager",)
"""Roles admitted by program reports and the audit trail."""
ROUTE_ROLES: frozenset[Role] = frozenset(CASE_ROLES + PROGRAM_ROLES)
"""Every role any assessment route admits."""

if PEOPLE_WHO_MAY_NEVER_SEE_CASE_CONTENT & ROUTE_ROLES:  # not `assert`: it must hold under `python -O` too
    raise RuntimeError(
        "the golden rule: assessment routes may never admit "
        f"{sorted(PEOPLE_WHO_MAY_NEVER_SEE_CASE_CONTENT & ROUTE_ROLES)}"
    )

Caller = Callable[..., Awaitable[Principal]]
"""A FastAPI dependency returning the authenticated, authorised caller."""


def case_manager(access: Access) -> Caller:
    """A case manager whose token names its case agency; 401 without a valid token, 403 otherwise."""
    return access.case_manager()


def program_manager(access: Access) -> Caller:
    """A program manager whose token names its jurisdiction; 401 without a valid token, 403 otherwise."""
    allowed = access.allow(*PROGRAM_ROLES)

    async def of_a_jurisdiction(principal: Annotated[Principal, Depends(allowed)]) -> Principal:
        if not principal.jurisdiction:
            raise Forbidden("the token names no jurisdiction (`jurisdiction` claim), so no report is visible to it")
        return principal

    return of_a_jurisdiction
