"""Who may call the directory's case-agency routes (docs/access.md; DOMAIN.md §5).

Suggestions and service referrals reveal a case's needs, so only case managers of the agency
owning the case use them (any other case is 404, as if it did not exist). Capacity is about a
service, not a person: case managers and program managers of a jurisdiction the service serves
may mark it. Officers, prosecutors and courts are admitted by none of these routes: importing this
module fails if a role list ever includes one of them (LEAD's golden rule).
"""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends

from divert_platform.auth import PEOPLE_WHO_MAY_NEVER_SEE_CASE_CONTENT, Access, Principal, Role
from divert_platform.problems import Forbidden

CASE_ROLES: tuple[Role, ...] = ("case_manager",)
"""Roles admitted by suggestions and service-referral routes."""
CAPACITY_ROLES: tuple[Role, ...] = ("case_manager", "program_manager")
"""Roles that may mark a service at capacity."""
AUDIT_ROLES: tuple[Role, ...] = ("program_manager",)
"""Roles that read the audit trail."""

if PEOPLE_WHO_MAY_NEVER_SEE_CASE_CONTENT & frozenset(CASE_ROLES + CAPACITY_ROLES + AUDIT_ROLES):
    raise RuntimeError("the golden rule: directory case routes may never admit officers, prosecutors or courts")

Caller = Callable[..., Awaitable[Principal]]
"""A FastAPI dependency returning the authenticated, authorised caller."""


def case_manager(access: Access) -> Caller:
    """A case manager whose token names its case agency; 401 without a valid token, 403 otherwise."""
    return access.case_manager()


def capacity_marker(access: Access) -> Caller:
    """A case manager naming its agency or a program manager naming its jurisdiction."""
    allowed = access.allow(*CAPACITY_ROLES)

    async def scoped(principal: Annotated[Principal, Depends(allowed)]) -> Principal:
        if principal.role == "case_manager" and not principal.agency:
            raise Forbidden("the token names no case agency (`agency` claim)")
        if principal.role == "program_manager" and not principal.jurisdiction:
            raise Forbidden("the token names no jurisdiction (`jurisdiction` claim)")
        return principal

    return scoped
