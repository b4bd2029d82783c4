"""Who may call the directory (docs/access.md; docs/domain.md#privacy).

Suggestions and service referrals reveal a case's needs, so only case managers of the agency
owning the case use them (any other case is 404, as if it did not exist). Capacity is about a
service, not a person: case managers and program managers of a jurisdiction the service serves
may mark it. The service-referral report (de-identified: ids, codes and dates) is for program
managers and evaluators, of their own jurisdiction only. The catalogue holds no personal data:
every Divert role that refers or looks up services reads it. `allow` also refuses a scoped role
whose token lacks its scope (a case manager's agency, a program manager's or evaluator's
jurisdiction). Officers, prosecutors and courts are admitted by none of the case routes:
importing this module fails if a role list ever includes one of them (LEAD's golden rule).
"""

from typing import Annotated

from fastapi import Depends

from divert_platform.auth import PEOPLE_WHO_MAY_NEVER_SEE_CASE_CONTENT, Principal, Role, allow

CASE_ROLES: tuple[Role, ...] = ("case_manager",)
"""Roles admitted by suggestions and service-referral routes."""
CAPACITY_ROLES: tuple[Role, ...] = ("case_manager", "program_manager")
"""Roles that may mark a service at capacity."""
AUDIT_ROLES: tuple[Role, ...] = ("program_manager",)
"""Roles that read the audit trail."""
REPORT_ROLES: tuple[Role, ...] = ("program_manager", "evaluator")
"""Roles that read the service-referral report of their jurisdiction."""
CATALOGUE_ROLES: tuple[Role, ...] = ("case_manager", "program_manager", "officer", "service")
"""Roles that read the HSDS catalogue (no case content)."""

if PEOPLE_WHO_MAY_NEVER_SEE_CASE_CONTENT & frozenset(CASE_ROLES + CAPACITY_ROLES + AUDIT_ROLES + REPORT_ROLES):
    raise RuntimeError("the golden rule: directory case routes may never admit officers, prosecutors or courts")

CaseManager = Annotated[Principal, Depends(allow(*CASE_ROLES))]
"""A case manager whose token names its case agency."""
CapacityMarker = Annotated[Principal, Depends(allow(*CAPACITY_ROLES))]
"""A case manager naming its agency, or a program manager naming its jurisdiction."""
Reporter = Annotated[Principal, Depends(allow(*REPORT_ROLES))]
"""A program manager or an evaluator whose token names its jurisdiction."""
catalogue_reader = allow(*CATALOGUE_ROLES)
"""The dependency of every catalogue route."""
