"""Who may call Divert: the roles a token names and the scope claims each needs (docs/access.md).

Plain data, apart from `auth` (which verifies tokens with them), so that a command listing the roles
(`divert token --help`) does not load the web and token libraries.
"""

from typing import Literal, get_args

Role = Literal[
    "officer",
    "program_manager",
    "case_manager",
    "prosecutor",
    "court",
    "service",
    "deadline_worker",
    "ops",
    "agency_admin",
    "evaluator",
]
"""Who a token's caller is (docs/access.md); `agency_admin` is a police agency's integration
administrator, who manages its RMS's status-callback endpoints; `evaluator` studies a jurisdiction's
outcomes from de-identified extracts only."""
ROLES: tuple[Role, ...] = get_args(Role)

ScopeClaim = Literal["agency", "jurisdiction"]

SCOPE_CLAIMS: dict[Role, tuple[ScopeClaim, ...]] = {
    "officer": ("agency", "jurisdiction"),
    "agency_admin": ("agency", "jurisdiction"),
    "case_manager": ("agency",),
    "program_manager": ("jurisdiction",),
    "prosecutor": ("jurisdiction",),
    "court": ("jurisdiction",),
    "evaluator": ("jurisdiction",),
}
"""The claims each scoped role's token must carry: they decide what the caller may see
(docs/access.md). A missing claim is refused, never read as "everywhere"."""
