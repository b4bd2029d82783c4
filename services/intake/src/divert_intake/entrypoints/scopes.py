"""Which referrals a caller may see (docs/access.md): officers their agency's, program managers
their jurisdiction's. Everything outside the scope answers as if it did not exist."""

from dataclasses import dataclass
from typing import Any

from divert_intake.adapters.referral_queries import ReferralFilter
from divert_platform.auth import Principal
from divert_platform.problems import Forbidden


@dataclass(frozen=True)
class ReferralScope:
    """The referrals a caller may see: those of `agency` and of `jurisdiction`, where set."""

    agency: str | None = None
    jurisdiction: str | None = None

    def admits(self, row: dict[str, Any]) -> bool:
        """Whether a referral's status row is within the scope."""
        return self.admits_jurisdiction(row["jurisdiction"]) and self.agency in (None, row["agency"])

    def admits_jurisdiction(self, jurisdiction: str) -> bool:
        """Whether referrals of `jurisdiction` may be within the scope."""
        return self.jurisdiction in (None, jurisdiction)

    def as_filter(self) -> ReferralFilter:
        """The scope as a list filter."""
        return ReferralFilter(agency=self.agency, jurisdiction=self.jurisdiction)


def scope_of(principal: Principal) -> ReferralScope:
    """The caller's scope; a 403 when its token lacks the claim its role is scoped by.

    An officer sees its agency's referrals (`rms.agency`), narrowed to one jurisdiction when its
    token names one; a program manager sees its jurisdiction's.
    """
    if principal.role == "officer":
        if not principal.agency:
            raise Forbidden("an officer's token must name its agency")
        return ReferralScope(agency=principal.agency, jurisdiction=principal.jurisdiction)
    if principal.role == "program_manager":
        if not principal.jurisdiction:
            raise Forbidden("a program manager's token must name its jurisdiction")
        return ReferralScope(jurisdiction=principal.jurisdiction)
    raise Forbidden(f"the {principal.role} role sees no referrals")
