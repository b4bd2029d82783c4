"""Who may call assessment, and who is acting (docs/access.md; docs/domain.md#privacy).

Case content — contact details, needs, consents, the timeline — goes only to case managers, and
only of the case agency that owns the case (their token's `agency`). Program managers get counts
and audit trails of their own jurisdiction (their token's `jurisdiction`); they and evaluators get
its de-identified evaluation extract. Officers, prosecutors
and courts are admitted by no route here (LEAD's golden rule): importing this module fails if a
route role list ever includes one of them.

Every change is attributed to the caller's verified token (`Principal.cause()`: actor, role,
agency), never to what a request body claims.
"""

from typing import Annotated

from fastapi import Depends

from divert_platform.auth import PEOPLE_WHO_MAY_NEVER_SEE_CASE_CONTENT, Principal, Role, allow

CASE_ROLES: tuple[Role, ...] = ("case_manager",)
"""Roles admitted by every `/v1/cases` route, disclosures included."""
PROGRAM_ROLES: tuple[Role, ...] = ("program_manager",)
"""Roles admitted by program reports and the audit trail."""
EVALUATION_ROLES: tuple[Role, ...] = ("program_manager", "evaluator")
"""Roles admitted by the evaluation extract, its dictionary and the outcome measures: de-identified data only."""
ROUTE_ROLES: frozenset[Role] = frozenset(CASE_ROLES + PROGRAM_ROLES + EVALUATION_ROLES)
"""Every role any assessment route admits."""

if PEOPLE_WHO_MAY_NEVER_SEE_CASE_CONTENT & ROUTE_ROLES:  # not `assert`: it must hold under `python -O` too
    raise RuntimeError(
        "the golden rule: assessment routes may never admit "
        f"{sorted(PEOPLE_WHO_MAY_NEVER_SEE_CASE_CONTENT & ROUTE_ROLES)}"
    )

CaseManager = Annotated[Principal, Depends(allow(*CASE_ROLES))]
"""A case manager whose token names its case agency: it sees and changes that agency's cases only."""
ProgramManager = Annotated[Principal, Depends(allow(*PROGRAM_ROLES))]
"""A program manager whose token names its jurisdiction: it sees that jurisdiction's reports only."""
Evaluation = Annotated[Principal, Depends(allow(*EVALUATION_ROLES))]
"""A program manager or evaluator whose token names its jurisdiction: it sees that jurisdiction's
de-identified extract only (no names, dates of birth, phones, RMS ids or notes)."""
