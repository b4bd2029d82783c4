"""Who is acting: the metadata every recorded event carries (actor, role, agency; DOMAIN.md §5).

Until authentication arrives (a later issue) callers are taken at their word: the actor is the
`case_manager_id` (or `actor`) and `agency` the request body names, else "unauthenticated", and
the role is always "case_manager". This module is the one place that issue has to change.
"""

from typing import Any

from pydantic import BaseModel

UNAUTHENTICATED = "unauthenticated"
CASE_MANAGER = "case_manager"


def actor_of(body: BaseModel | None) -> dict[str, Any]:
    """The actor metadata of a request with this body."""
    actor = getattr(body, "actor", None) or getattr(body, "case_manager_id", None) or UNAUTHENTICATED
    return {"actor": actor, "role": CASE_MANAGER, "agency": getattr(body, "agency", None)}
