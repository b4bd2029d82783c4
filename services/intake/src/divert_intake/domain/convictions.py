"""Prior convictions, computed: which of a person's convictions disqualify them on the referral date.

A policy's `[convictions]` section sorts conviction categories into those that disqualify at any
time, those that disqualify within a number of years, and the rest. The look-back is counted on the
calendar from the later of the conviction and the release from it, so the same facts give the same
answer whoever screens the person. Like every screening fact, the convictions are read here and
discarded: nothing in this module keeps or names them.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from divert_intake.domain.facts import PriorConviction, Screening
from divert_intake.domain.policy import ConvictionRules, JurisdictionPolicy


def years_before(day: date, years: int) -> date:
    """The same day `years` calendar years earlier; 29 February becomes 28 February in a common year.

    Dates before year 1 do not exist; the earliest date stands in for them.
    """
    year = day.year - years
    if year < 1:
        return date.min
    if (day.month, day.day) == (2, 29):
        try:
            return date(year, 2, 29)
        except ValueError:
            return date(year, 2, 28)
    return day.replace(year=year)


def counts_from(conviction: PriorConviction) -> date:
    """The date the look-back runs from: the conviction or the release from it, whichever is later."""
    released = conviction.released_on
    return conviction.convicted_on if released is None else max(conviction.convicted_on, released)


def disqualifies(rules: ConvictionRules, conviction: PriorConviction, referred_on: date) -> bool:
    """Whether one conviction disqualifies on `referred_on` (the referral's local date).

    A category disqualifying at any time always does; one disqualifying within the look-back does
    when it counts from a day no earlier than the same day `within_years` earlier (that day
    included). A later date is never read as an advantage: the API refuses dates after the referral.
    """
    if conviction.category in rules.any_time:
        return True
    if conviction.category in rules.within:
        return counts_from(conviction) >= years_before(referred_on, rules.within_years)
    return False


def any_disqualifies(rules: ConvictionRules, convictions: Iterable[PriorConviction], referred_on: date) -> bool:
    """Whether any of `convictions` disqualifies on `referred_on`."""
    return any(disqualifies(rules, conviction, referred_on) for conviction in convictions)


@dataclass(frozen=True)
class Problem:
    """Why the screening's convictions cannot be judged: the request field at fault and a sentence
    that names the rule, never the conviction given."""

    field: str
    message: str


def screening_problem(policy: JurisdictionPolicy, screening: Screening, referred_on: date) -> Problem | None:
    """The first reason `policy` cannot judge the screening's convictions, or None when it can.

    A version with a `[convictions]` section computes them from `prior_convictions`: each of a
    category it lists, dated no later than the referral (`referred_on`, its local date) and
    released no earlier than convicted; the officer's own judgement (`disqualifying_convictions`)
    is refused there. A version without the section judges the legacy list, if an exclusion reads
    it, and never `prior_convictions`; a list nothing reads is refused rather than ignored.
    """
    judged_by = f"{policy.name} version {policy.version}"
    rules = policy.convictions
    if rules is None:
        if screening.prior_convictions:
            return Problem(
                "screening.prior_convictions", f"{judged_by} judges convictions from disqualifying_convictions"
            )
        if screening.disqualifying_convictions and not policy.reads_fact("disqualifying_convictions"):
            return Problem("screening.disqualifying_convictions", f"{judged_by} does not judge prior convictions")
        return None
    if screening.disqualifying_convictions:
        return Problem(
            "screening.disqualifying_convictions", f"{judged_by} computes convictions: send prior_convictions"
        )
    for index, conviction in enumerate(screening.prior_convictions):
        at = f"screening.prior_convictions.{index}"
        if conviction.category not in rules.categories:
            accepted = ", ".join(sorted(rules.categories))
            return Problem(f"{at}.category", f"{judged_by} accepts the conviction categories {accepted}")
        if conviction.convicted_on > referred_on:
            return Problem(f"{at}.convicted_on", "a conviction cannot be dated after the referral")
        released = conviction.released_on
        if released is not None and released > referred_on:
            return Problem(f"{at}.released_on", "a release cannot be dated after the referral")
        if released is not None and released < conviction.convicted_on:
            return Problem(f"{at}.released_on", "a release cannot precede its conviction")
    return None
