"""The referral funnel programs report (docs/domain.md#reporting): what each count means, read from
what intake keeps of each referral, and how referrals are grouped. Counts only, never anyone.

Every count is over a cohort (the referrals made in a window) and says where those referrals have
got to by now: a referral made in March and enrolled in May counts as enrolled in March's row.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

from divert_intake.domain.approvals import APPROVAL_DENIED, APPROVAL_TIMED_OUT


class DeclineKind(StrEnum):
    """How a referral came to be declined (fixed codes: programs report each)."""

    INELIGIBLE = "ineligible"
    """The jurisdiction's rules found the person ineligible, decided at once (no approval gate)."""
    APPROVAL_DENIED = "approval_denied"
    """The policy's approver (a prosecutor or the program manager) declined it at the gate."""
    APPROVAL_TIMED_OUT = "approval_timed_out"
    """Nobody decided in time at the gate, and the policy's rule declined it."""


def decline_kind(reason_codes: Iterable[str]) -> DeclineKind:
    """The kind of a decline with these kept reason codes: a decline at the approval gate always
    carries the gate's own code (after any reasons the rules gave), one decided at once never does."""
    codes = set(reason_codes)
    if APPROVAL_DENIED in codes:
        return DeclineKind.APPROVAL_DENIED
    if APPROVAL_TIMED_OUT in codes:
        return DeclineKind.APPROVAL_TIMED_OUT
    return DeclineKind.INELIGIBLE


GroupBy = Literal["month", "pathway", "precinct", "policy_version"]


@dataclass(frozen=True)
class ReferralOutcome:
    """Where one referral stands, as far as reports read it: its grouping keys and milestones."""

    referred_at: datetime
    pathway: str
    status: str
    precinct: str | None = None
    policy_version: str | None = None
    accepted: bool = False
    decline: DeclineKind | None = None
    case_opened: bool = False
    """A case agency opened a case: noted from its milestone, or implied by a later one (an
    assessment, enrollment or closure noted before intake kept openings)."""
    assessed_on_time: bool | None = None
    """True or False once assessed; None while not."""
    enrolled: bool = False
    closed: bool = False
    lapsed: bool = False
    warrant_requested: bool = False
    warrant_rescinded: bool = False


@dataclass
class Counts:
    """The funnel's counts over a set of referrals (see docs/domain.md#reporting for each)."""

    referred: int = 0
    pending_approval: int = 0
    accepted: int = 0
    declined: dict[DeclineKind, int] = field(default_factory=lambda: dict.fromkeys(DeclineKind, 0))
    withdrawn: int = 0
    arrest_diversions: int = 0
    """Accepted arrest diversions: the referrals with an assessment deadline, the denominator of the
    deadline rates."""
    case_opened: int = 0
    assessed_on_time: int = 0
    assessed_late: int = 0
    arrest_diversions_assessed_on_time: int = 0
    enrolled: int = 0
    closed: int = 0
    lapsed: int = 0
    warrant_requested: int = 0
    warrant_rescinded: int = 0

    def add(self, outcome: ReferralOutcome) -> None:
        """Count one more referral."""
        self.referred += 1
        self.pending_approval += outcome.status == "pending_approval"
        self.accepted += outcome.accepted
        if outcome.decline is not None:
            self.declined[outcome.decline] += 1
        self.withdrawn += outcome.status == "withdrawn"
        arrest_diversion = outcome.accepted and outcome.pathway == "arrest_diversion"
        self.arrest_diversions += arrest_diversion
        self.case_opened += outcome.case_opened
        self.assessed_on_time += outcome.assessed_on_time is True
        self.assessed_late += outcome.assessed_on_time is False
        self.arrest_diversions_assessed_on_time += arrest_diversion and outcome.assessed_on_time is True
        self.enrolled += outcome.enrolled
        self.closed += outcome.closed
        self.lapsed += outcome.lapsed
        self.warrant_requested += outcome.warrant_requested
        self.warrant_rescinded += outcome.warrant_rescinded

    def as_dict(self) -> dict[str, object]:
        """The counts by name (for tests and logs of totals; never ids)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Rate:
    """A count out of a denominator, and its percentage (one decimal; None when the denominator is 0)."""

    count: int
    denominator: int

    @property
    def percent(self) -> float | None:
        return round(100 * self.count / self.denominator, 1) if self.denominator else None


def rates(counts: Counts) -> dict[str, Rate]:
    """The rates programs report, each with the denominator it is a share of."""
    return {
        "enrolled_of_accepted": Rate(counts.enrolled, counts.accepted),
        "assessed_on_time_of_arrest_diversions": Rate(
            counts.arrest_diversions_assessed_on_time, counts.arrest_diversions
        ),
        "lapsed_of_arrest_diversions": Rate(counts.lapsed, counts.arrest_diversions),
        "warrant_requested_of_arrest_diversions": Rate(counts.warrant_requested, counts.arrest_diversions),
        "warrant_rescinded_of_warrant_requested": Rate(counts.warrant_rescinded, counts.warrant_requested),
    }


def _key_of(by: GroupBy, zone: ZoneInfo) -> Callable[[ReferralOutcome], str | None]:
    match by:
        case "month":
            # The program's month: the jurisdiction's calendar, not UTC's.
            return lambda outcome: outcome.referred_at.astimezone(zone).strftime("%Y-%m")
        case "pathway":
            return lambda outcome: outcome.pathway
        case "precinct":
            return lambda outcome: outcome.precinct
        case "policy_version":
            return lambda outcome: outcome.policy_version


def tally(
    outcomes: Iterable[ReferralOutcome], by: GroupBy, zone: ZoneInfo
) -> tuple[Counts, Sequence[tuple[str | None, Counts]]]:
    """The counts over every referral, and one group per key present, sorted by key (a null key,
    an unknown precinct or version, last). Months are `YYYY-MM` in `zone`, the jurisdiction's."""
    key_of = _key_of(by, zone)
    total, groups = Counts(), defaultdict[str | None, Counts](Counts)
    for outcome in outcomes:
        total.add(outcome)
        groups[key_of(outcome)].add(outcome)
    return total, sorted(groups.items(), key=lambda item: (item[0] is None, item[0] or ""))


SECONDS_PER_DAY = 86_400


def days_left(due_by: datetime, now: datetime) -> int:
    """Whole days from `now` to `due_by`, rounded down: 0 when due within a day, -1 within the
    first day overdue."""
    return int((due_by - now).total_seconds() // SECONDS_PER_DAY)
