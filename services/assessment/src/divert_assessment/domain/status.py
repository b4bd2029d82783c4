"""Where a case stands in its lifecycle (docs/domain.md#case-lifecycle)."""

from enum import StrEnum


class CaseStatus(StrEnum):
    """pending_assessment → assessed → enrolled | declined; any of those → closed → (reopened) back.

    An enrolled participant is also active or inactive (its engagement): people do not "fail out".
    """

    PENDING_ASSESSMENT = "pending_assessment"
    ASSESSED = "assessed"
    ENROLLED = "enrolled"
    DECLINED = "declined"
    CLOSED = "closed"


OPEN_STATES = frozenset({CaseStatus.PENDING_ASSESSMENT, CaseStatus.ASSESSED, CaseStatus.ENROLLED, CaseStatus.DECLINED})
"""Every state but closed: a declined case stays open until someone closes it."""
