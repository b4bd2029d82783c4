"""Who may call intake, and which referrals and callback endpoints each caller sees (docs/access.md).

Officers submit referrals and read and withdraw their agency's; program managers read, withdraw
and extend their jurisdiction's. An agency's integration administrator manages the status-callback
endpoints of its agency, a prosecutor those of its jurisdiction (`EndpointScope`). Everything
outside a caller's scope answers as if it did not exist. A scoped role's token must carry the
claims its scope is read from (an officer's and an agency administrator's `agency` and
`jurisdiction`, a program manager's `jurisdiction`; never `"*"`): `allow` refuses it otherwise,
so a missing claim never widens a scope. Intake shows police the status of their referrals and
never case content, so no route here is one LEAD's golden rule keeps them off.
"""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends

from divert_intake.adapters.referral_views import ReferralFilter
from divert_intake.service_layer.status_callbacks import CALLBACK_TYPES, PROSECUTION_TYPES
from divert_platform.auth import ALL_JURISDICTIONS, Principal, allow
from divert_platform.callbacks.registry import Audience
from divert_platform.problems import Forbidden

Officer = Annotated[Principal, Depends(allow("officer"))]
"""A police officer, through the agency's RMS."""
Reader = Annotated[Principal, Depends(allow("officer", "program_manager"))]
"""An officer (its agency's referrals) or a program manager (its jurisdiction's)."""
ProgramManager = Annotated[Principal, Depends(allow("program_manager"))]
"""A program manager (its jurisdiction's referrals)."""
Approver = Annotated[Principal, Depends(allow("prosecutor", "program_manager"))]
"""A prosecutor or program manager: decides the referrals its jurisdiction's policy sends it."""
CallbackAdmin = Annotated[Principal, Depends(allow("agency_admin", "prosecutor"))]
"""An agency's integration administrator (its agency's callback endpoints) or a prosecutor (its
jurisdiction's)."""


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


def scope_of(caller: Principal) -> ReferralScope:
    """The caller's scope: an officer sees its agency's referrals (`rms.agency`) of its token's
    jurisdiction, the one it may refer into; a program manager or prosecutor its jurisdiction's
    (every one for a prosecutor's token with `jurisdiction: "*"`)."""
    if caller.role == "officer":
        return ReferralScope(agency=caller.agency, jurisdiction=caller.jurisdiction)
    if (
        caller.jurisdiction == ALL_JURISDICTIONS
    ):  # a state-wide prosecutor's office (`allow` admits it for no other role)
        return ReferralScope()
    return ReferralScope(jurisdiction=caller.jurisdiction)


@dataclass(frozen=True)
class EndpointScope:
    """The callback endpoints a caller manages: those of `audience`, `jurisdiction` and `agency`."""

    audience: Audience
    jurisdiction: str
    agency: str | None
    event_types: tuple[str, ...]
    """The changes endpoints of this audience may receive."""

    def admits(self, row: dict[str, Any]) -> bool:
        """Whether an endpoint's row is within the scope."""
        return (row["audience"], row["jurisdiction"], row["agency"]) == (self.audience, self.jurisdiction, self.agency)


def endpoint_scope(caller: Principal) -> EndpointScope:
    """The caller's endpoints: an agency administrator's are its agency's within its jurisdiction
    (audience `agency`), a prosecutor's its jurisdiction's (audience `jurisdiction`), restricted
    to the changes that decide whether a warrant may be sought. An endpoint belongs to one
    jurisdiction, so a prosecutor's token for every jurisdiction (`"*"`) is a 403 here."""
    if caller.jurisdiction is None or caller.jurisdiction == ALL_JURISDICTIONS:
        raise Forbidden(
            "a callback endpoint belongs to one jurisdiction: the token must name it (`jurisdiction` claim), "
            f'not "{ALL_JURISDICTIONS}"',
            claim="jurisdiction",
        )
    if caller.role == "agency_admin":
        return EndpointScope("agency", caller.jurisdiction, caller.agency, CALLBACK_TYPES)
    return EndpointScope("jurisdiction", caller.jurisdiction, None, PROSECUTION_TYPES)
