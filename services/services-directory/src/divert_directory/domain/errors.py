"""Why the directory refuses a request: the API turns each into a problem response."""

from divert_contracts.directory import ServiceReferralStatus


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

    def __init__(self, message: str) -> None:
        super().__init__(message)
