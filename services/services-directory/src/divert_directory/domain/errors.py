"""Why the directory refuses a command: the API answers each with its problem (entrypoints/problems.py)."""

from uuid import UUID

from divert_contracts.directory import ServiceReferralStatus
from divert_directory.domain.consent_check import ConsentDecision


class InvalidStatusChange(Exception):
    """The service referral's current status does not lead to the one asked for."""

    def __init__(
        self, current: ServiceReferralStatus | None, wanted: ServiceReferralStatus, allowed: tuple[str, ...]
    ) -> None:
        nexts = ", ".join(allowed) or "nothing: it is final"
        super().__init__(
            f"a service referral that is {current or 'not made'} cannot become {wanted} (it may become {nexts})"
        )
        self.current = current
        self.wanted = wanted
        self.allowed = allowed


class ReasonMisplaced(ValueError):
    """A decline without its reason, or a reason given with another status."""


class ServiceUnsuitable(ValueError):
    """The service cannot take this referral (unknown, not active, another jurisdiction, not for
    this need); `field` names the part of the request at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class CaseIsClosed(Exception):
    """The case is closed: nobody is referred from a closed case until it is reopened."""

    def __init__(self, referral_id: UUID) -> None:
        super().__init__(f"case {referral_id} is closed; reopen it to refer the person to services")


class NoConsentInForce(Exception):
    """No consent in force allows this referral; `decision` says which consent is missing."""

    def __init__(self, decision: ConsentDecision) -> None:
        super().__init__(decision.explanation)
        self.decision = decision


class CapacityOutOfScope(Exception):
    """The service serves none of the jurisdictions the caller may act for."""

    def __init__(self) -> None:
        super().__init__("the service serves none of the jurisdictions this token may act for")
