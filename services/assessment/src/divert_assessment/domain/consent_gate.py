"""The consent gate: whether a case's data may go to a party, and which of it (docs/domain.md#privacy).

Nothing about a case goes to a party the program has not registered (`organisations.py`), and
nothing ever goes to police, prosecution, a court, supervision or a jail, whatever a consent says
(LEAD's golden rule; 42 CFR Part 2 forbids use to investigate or prosecute the patient). Beyond
them, nothing about a case leaves the agency without a consent in force — not revoked, not
expired — that names the recipient and whose scope covers what is asked. Scopes are ordered from
least to most as the contract lists them, so a wider consent covers every narrower request. Needs
that 42 CFR Part 2 protects go only under a consent marked `part2`, and every disclosure that
carries them carries the federal no-redisclosure notice (42 CFR §2.32).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal, get_args
from uuid import UUID

from divert_assessment.domain.organisations import (
    Organisation,
    OrganisationRegistry,
    OrganisationType,
    never_to_enforcement,
    not_registered,
)
from divert_assessment.domain.rules import is_part2
from divert_contracts.cases import ConsentScope, NeedDomain

SCOPES: tuple[ConsentScope, ...] = get_args(ConsentScope)
"""Every scope, least to most."""

Section = Literal["contact_details", "program_status", "assessment_needs"]
"""A part of the case a disclosure can carry."""

SECTIONS: dict[ConsentScope, tuple[Section, ...]] = {
    "contact_details": ("contact_details",),
    "program_status": ("program_status",),
    "assessment_needs": ("assessment_needs",),
    "full_case": ("contact_details", "program_status", "assessment_needs"),
}
"""What a request for each scope returns: only what was asked for, even under a wider consent."""

REDISCLOSURE_NOTICE = (
    "This information has been disclosed to you from records protected by federal confidentiality rules "
    "(42 CFR part 2). The federal rules prohibit you from making any further disclosure of it unless further "
    "disclosure is expressly permitted by the written consent of the individual whose information is being "
    "disclosed or is otherwise permitted by 42 CFR part 2. A general authorization for the release of medical or "
    "other information is NOT sufficient for this purpose (see 42 CFR §2.31). The federal rules restrict any use "
    "of the information to investigate or prosecute with regard to a crime any patient with a substance use "
    "disorder. (Notice required by 42 CFR §2.32.)"
)
"""The notice that must accompany a consented disclosure of Part 2 information (42 CFR §2.32(a))."""


@dataclass(frozen=True)
class Consent:
    """A consent as recorded on the case; whether it is in force depends on when you ask."""

    consent_id: UUID
    parties: tuple[str, ...]
    scope: ConsentScope
    part2: bool
    expires_at: datetime
    revoked_at: datetime | None = None

    def in_force(self, now: datetime) -> bool:
        """Not revoked and not yet expired."""
        return self.revoked_at is None and now < self.expires_at

    def covers(self, scope: ConsentScope) -> bool:
        """This consent's scope is the requested one or wider."""
        return SCOPES.index(self.scope) >= SCOPES.index(scope)


class Refusal(StrEnum):
    """Why nothing may be disclosed, from the most to the least basic reason."""

    NOT_REGISTERED = "party_not_registered"
    ENFORCEMENT_PARTY = "party_is_enforcement"
    NO_CONSENT_FOR_PARTY = "no_consent_for_party"
    SCOPE_TOO_NARROW = "scope_too_narrow"
    REVOKED = "consent_revoked"
    EXPIRED = "consent_expired"


@dataclass(frozen=True)
class Decision:
    """The gate's answer: the consent relied on (and whether it reaches Part 2 data), or why not."""

    party: str
    scope: ConsentScope
    consent_id: UUID | None = None
    part2: bool = False
    refusal: Refusal | None = None
    recipient: Organisation | None = None
    """The registered organisation `party` names (None when it is not registered)."""

    @property
    def party_type(self) -> OrganisationType | None:
        """The recipient's type, when it is registered."""
        return self.recipient.type if self.recipient else None

    @property
    def allowed(self) -> bool:
        """True when a consent in force lets the data go."""
        return self.consent_id is not None

    @property
    def explanation(self) -> str:
        """A sentence saying what was decided, and which consent is missing when refused."""
        wanted = f"a consent in force naming {self.party!r} with scope {self.scope} or wider"
        match self.refusal:
            case None:
                return f"disclosed to {self.party!r} under consent {self.consent_id}"
            case Refusal.NOT_REGISTERED:
                return not_registered(self.party)
            case Refusal.ENFORCEMENT_PARTY:
                assert self.recipient is not None  # only a registered organisation has a type
                return never_to_enforcement(self.recipient)
            case Refusal.NO_CONSENT_FOR_PARTY:
                return f"no consent names {self.party!r}; {wanted} is needed"
            case Refusal.SCOPE_TOO_NARROW:
                return f"the consents in force for {self.party!r} do not cover {self.scope}; {wanted} is needed"
            case Refusal.REVOKED:
                return f"the consent covering this for {self.party!r} was revoked; {wanted} is needed"
            case Refusal.EXPIRED:
                return f"the consent covering this for {self.party!r} has expired; {wanted} is needed"


def may_disclose(
    consents: Iterable[Consent],
    party: str,
    scope: ConsentScope,
    now: datetime,
    *,
    organisations: OrganisationRegistry,
) -> Decision:
    """Whether the data `scope` covers may go to `party` at `now`, and under which consent.

    Only to an organisation in `organisations`, and never to one of an enforcement type, even
    under a consent naming it. Of several consents that would do, one marked `part2` is relied
    on (so Part 2 needs may go); otherwise the one that lasts longest. Refused, the decision says
    why: the party is not registered, or is enforcement, or what is missing — a consent for the
    party at all, a wide enough scope, or one that is not revoked or expired.
    """
    recipient = organisations.find(party)
    if recipient is None:
        return Decision(party, scope, refusal=Refusal.NOT_REGISTERED)
    if recipient.is_enforcement:
        return Decision(party, scope, refusal=Refusal.ENFORCEMENT_PARTY, recipient=recipient)
    named = [consent for consent in consents if party in consent.parties]
    usable = [consent for consent in named if consent.in_force(now) and consent.covers(scope)]
    if usable:
        chosen = max(usable, key=lambda consent: (consent.part2, consent.expires_at))
        return Decision(party, scope, consent_id=chosen.consent_id, part2=chosen.part2, recipient=recipient)
    return Decision(party, scope, refusal=_why_not(named, scope, now), recipient=recipient)


def _why_not(named: list[Consent], scope: ConsentScope, now: datetime) -> Refusal:
    covering = [consent for consent in named if consent.covers(scope)]
    if not named:
        return Refusal.NO_CONSENT_FOR_PARTY
    if not covering or any(consent.in_force(now) for consent in named):
        return Refusal.SCOPE_TOO_NARROW
    if any(consent.revoked_at is not None for consent in covering):
        return Refusal.REVOKED
    return Refusal.EXPIRED


@dataclass(frozen=True)
class Need:
    """A need as the gate sees it: its domain and priority."""

    domain: NeedDomain
    priority: int


def disclosable_needs(needs: Iterable[Need], decision: Decision) -> list[Need]:
    """The needs that may go under `decision`: Part 2 domains only when its consent is `part2`.

    Withheld needs leave no trace in what is returned, not even a count: saying that something
    was held back under Part 2 would itself disclose that the person has a Part 2 record.
    """
    if not decision.allowed:
        return []
    return [need for need in needs if decision.part2 or not is_part2(need.domain)]


def needs_notice(needs: Iterable[Need]) -> bool:
    """True when what is disclosed includes Part 2 information, so the §2.32 notice must go with it."""
    return any(is_part2(need.domain) for need in needs)
