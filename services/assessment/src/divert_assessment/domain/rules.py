"""Assessment rules, each a sentence that returns the violation it finds (or None).

A violation names the request field at fault and a stable code, so the API can answer 422 with
field paths and clients can act on the code rather than the wording.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from divert_contracts.cases import PART2_DOMAINS

MOST_URGENT, LEAST_URGENT = 1, 10


@dataclass(frozen=True)
class Violation:
    """A broken rule: which field, a stable code and a sentence for people."""

    field: str
    code: str
    message: str


def completed_at_is_not_in_the_future(completed_at: datetime, now: datetime) -> Violation | None:
    """An assessment cannot be recorded as completed later than now."""
    if completed_at > now:
        return Violation("completed_at", "in_future", "completed_at is in the future")
    return None


def completed_at_is_not_before_the_referral(completed_at: datetime, referred_at: datetime) -> Violation | None:
    """A person cannot be assessed for a referral that had not been made yet."""
    if completed_at < referred_at:
        return Violation("completed_at", "before_referral", "completed_at is before the referral was made")
    return None


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
