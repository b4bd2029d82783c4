"""Case rules, each a sentence that returns the violation it finds (or None; a list for rules about
every item of a list).

A violation names the request field at fault and a stable code, so the API can answer 422 with
field paths and clients can act on the code rather than the wording.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from divert_assessment.domain.organisations import OrganisationRegistry, never_to_enforcement, not_registered
from divert_contracts.cases import PART2_DOMAINS

MOST_URGENT, LEAST_URGENT = 1, 10


@dataclass(frozen=True)
class Violation:
    """A broken rule: which field, a stable code and a sentence for people."""

    field: str
    code: str
    message: str


def is_not_in_the_future(field: str, moment: datetime, now: datetime) -> Violation | None:
    """Nothing can be recorded as having happened later than now."""
    if moment > now:
        return Violation(field, "in_future", f"{field} is in the future")
    return None


def is_not_before_the_referral(field: str, moment: datetime, referred_at: datetime) -> Violation | None:
    """Nothing happens to a case before the referral that started it was made."""
    if moment < referred_at:
        return Violation(field, "before_referral", f"{field} is before the referral was made")
    return None


def is_not_before_the_opening(field: str, moment: datetime, opened_at: datetime) -> Violation | None:
    """A case cannot be closed before it was opened."""
    if moment < opened_at:
        return Violation(field, "before_opening", f"{field} is before the case was opened")
    return None


def is_not_before_the_assessment(field: str, moment: datetime, completed_at: datetime | None) -> Violation | None:
    """A person enrolls after being assessed, not before."""
    if completed_at is not None and moment < completed_at:
        return Violation(field, "before_assessment", f"{field} is before the assessment was completed")
    return None


def expires_after_now(expires_at: datetime, now: datetime) -> Violation | None:
    """A consent must still be in force when it is recorded."""
    if expires_at <= now:
        return Violation("expires_at", "not_in_future", "expires_at must be in the future")
    return None


def each_party_is_named_once(parties: Iterable[str]) -> Violation | None:
    """A consent names each recipient once; repeats suggest a typo in who may receive what."""
    repeated = sorted(party for party, count in Counter(parties).items() if count > 1)
    if repeated:
        return Violation("parties", "duplicate_party", f"parties named more than once: {', '.join(repeated)}")
    return None


def each_party_may_receive(parties: Sequence[str], organisations: OrganisationRegistry) -> list[Violation]:
    """A consent names only registered organisations, and never police, prosecution, a court,
    supervision or a jail: what a person shares in care coordination is never used for
    enforcement, even with their signature (the golden rule). One violation per party at fault,
    naming its place in the list."""
    violations = []
    for index, party in enumerate(parties):
        organisation = organisations.find(party)
        if organisation is None:
            violations.append(Violation(f"parties.{index}", "unregistered_party", not_registered(party)))
        elif organisation.is_enforcement:
            violations.append(Violation(f"parties.{index}", "enforcement_party", never_to_enforcement(organisation)))
    return violations


def each_need_domain_appears_once(domains: Iterable[str]) -> Violation | None:
    """A need domain is assessed once, with one priority; repeats would make its priority ambiguous."""
    repeated = sorted(domain for domain, count in Counter(domains).items() if count > 1)
    if repeated:
        return Violation("needs", "duplicate_domain", f"need domains listed more than once: {', '.join(repeated)}")
    return None


def each_priority_is_from_one_to_ten(priorities: Iterable[int]) -> Violation | None:
    """Priorities run from 1 (most urgent) to 10, the scale every consumer of case events reads."""
    if any(not MOST_URGENT <= priority <= LEAST_URGENT for priority in priorities):
        return Violation("needs", "priority_out_of_range", "need priorities run from 1 (most urgent) to 10")
    return None


def is_on_time(completed_at: datetime, assessment_due_by: datetime | None) -> bool:
    """Completed at or before the due time; a case without a due time is always on time."""
    return assessment_due_by is None or completed_at <= assessment_due_by


def is_part2(domain: str) -> bool:
    """True when information about this need domain is protected by 42 CFR Part 2."""
    return domain in PART2_DOMAINS


@dataclass(frozen=True)
class EarlierCase:
    """Another case of someone known to the RMS: enough to decide whether a new referral re-refers them."""

    referral_id: UUID
    rms_agency: str
    rms_person_id: str
    opened_at: datetime
    closed: bool


def previous_case_of_the_same_person(
    rms_agency: str, rms_person_id: str | None, earlier: Iterable[EarlierCase]
) -> UUID | None:
    """The latest closed case of the same person, identified by the RMS agency's own person id.

    Never matched on names or dates of birth: two people can share them, and linking a stranger's
    history into someone's case would be a privacy breach. Without an RMS person id there is no link.
    """
    if not rms_person_id:
        return None
    same_person = [
        case
        for case in earlier
        if case.closed and case.rms_agency == rms_agency and case.rms_person_id == rms_person_id
    ]
    latest = max(same_person, key=lambda case: case.opened_at, default=None)
    return latest.referral_id if latest else None
