"""May the person be referred to this organization? Only under a consent that says so (docs/domain.md#privacy).

A service referral tells a provider who the person is and which need brings them. So it needs a
consent in force — recorded, not revoked, not expired — that names the service's organization
among its parties, for a purpose that covers referring (`service_referral` or
`care_coordination`). A need 42 CFR Part 2 protects (substance-use treatment) goes only under a
consent marked `part2`. Refused, the decision says which consent is missing.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from divert_contracts.cases import ConsentPurpose
from divert_directory.domain.case_facts import ConsentFact

REFERRAL_PURPOSES: tuple[ConsentPurpose, ...] = ("service_referral", "care_coordination")
"""Consent purposes under which a person may be referred to a service."""


class ConsentRefusal(StrEnum):
    """Why no consent allows the referral, from the most to the least basic reason."""

    NO_CONSENT_FOR_ORGANIZATION = "no_consent_for_organization"
    PURPOSE_NOT_COVERED = "purpose_not_covered"
    NOT_PART2 = "consent_not_part2"
    REVOKED = "consent_revoked"
    EXPIRED = "consent_expired"


@dataclass(frozen=True)
class ConsentDecision:
    """The consent a referral may rely on, or why there is none."""

    organization_id: UUID
    part2_needed: bool
    consent_id: UUID | None = None
    refusal: ConsentRefusal | None = None

    @property
    def allowed(self) -> bool:
        """True when a consent in force allows the referral."""
        return self.consent_id is not None

    @property
    def missing(self) -> str:
        """The consent that would allow the referral, as a phrase."""
        part2 = " marked part2 (42 CFR Part 2)" if self.part2_needed else ""
        purposes = " or ".join(REFERRAL_PURPOSES)
        return f"a consent in force{part2} naming organization {self.organization_id} for {purposes}"

    @property
    def explanation(self) -> str:
        """A sentence saying what was decided and, when refused, which consent is missing."""
        match self.refusal:
            case None:
                return f"referred under consent {self.consent_id}"
            case ConsentRefusal.NO_CONSENT_FOR_ORGANIZATION:
                return f"no consent names organization {self.organization_id}; {self.missing} is needed"
            case ConsentRefusal.PURPOSE_NOT_COVERED:
                return f"the consents naming the organization are for other purposes; {self.missing} is needed"
            case ConsentRefusal.NOT_PART2:
                return (
                    "the need is 42 CFR Part 2 protected and no consent naming the organization is marked part2; "
                    f"{self.missing} is needed"
                )
            case ConsentRefusal.REVOKED:
                return f"the consent that allowed this was revoked; {self.missing} is needed"
            case ConsentRefusal.EXPIRED:
                return f"the consent that allowed this has expired; {self.missing} is needed"


def may_refer(
    consents: Iterable[ConsentFact], organization_id: UUID, *, part2_needed: bool, now: datetime
) -> ConsentDecision:
    """Whether the person may be referred to `organization_id` at `now`, and under which consent.

    Of several consents that would do, the one lasting longest is relied on. Refused, the reason
    is the first test every candidate failed: naming the organization, a referral purpose, Part 2
    (when needed), then in force (revoked before expired).
    """
    named = [c for c in consents if c.recorded and c.names(str(organization_id))]
    for_referral = [c for c in named if c.purpose in REFERRAL_PURPOSES]
    qualifying = [c for c in for_referral if c.part2 or not part2_needed]
    in_force = [c for c in qualifying if c.in_force(now)]
    if in_force:
        chosen = max(in_force, key=lambda c: (c.expires_at, str(c.consent_id)))
        return ConsentDecision(organization_id, part2_needed, consent_id=chosen.consent_id)
    if not named:
        refusal = ConsentRefusal.NO_CONSENT_FOR_ORGANIZATION
    elif not for_referral:
        refusal = ConsentRefusal.PURPOSE_NOT_COVERED
    elif not qualifying:
        refusal = ConsentRefusal.NOT_PART2
    elif any(c.revoked_at is not None for c in qualifying):
        refusal = ConsentRefusal.REVOKED
    else:
        refusal = ConsentRefusal.EXPIRED
    return ConsentDecision(organization_id, part2_needed, refusal=refusal)
