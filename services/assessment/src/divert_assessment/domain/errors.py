"""Why a case refuses a command: the API turns each into a problem response."""

from datetime import datetime
from uuid import UUID

from divert_assessment.domain.rules import Violation
from divert_assessment.domain.status import CaseStatus
from divert_contracts.cases import Engagement


class InvalidTransition(Exception):
    """The case's current state does not allow the command; `current_state` says where it is."""

    def __init__(
        self, action: str, current_state: CaseStatus | None, engagement: Engagement | None = None, detail: str = ""
    ) -> None:
        where = f"{current_state} ({engagement})" if engagement else (current_state or "not open")
        super().__init__(f"cannot {action}: the case is {where}{detail}")
        self.action = action
        self.current_state = current_state
        self.engagement = engagement


class RulesBroken(ValueError):
    """A command that breaks one or more rules; `violations` names the fields at fault."""

    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("; ".join(v.message for v in violations))
        self.violations = violations


class ConsentNotFound(LookupError):
    """The case has no consent with this id."""

    def __init__(self, consent_id: UUID) -> None:
        super().__init__(f"the case has no consent {consent_id}")
        self.consent_id = consent_id


class ConsentAlreadyRevoked(Exception):
    """The consent was revoked before; a revocation is recorded once."""

    def __init__(self, consent_id: UUID, revoked_at: datetime) -> None:
        super().__init__(f"consent {consent_id} was already revoked at {revoked_at.isoformat()}")
        self.consent_id = consent_id
        self.revoked_at = revoked_at
