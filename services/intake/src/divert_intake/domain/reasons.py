"""Why a referral is declined, and what each reason rests on: the one place that says which reasons
may be stored and published as given and which are told to the officer once.

A reason resting on the offense or the contact (the door, the offense and its quantity, the
person's age, what drove the contact) is kept and published as given: programs report by it. A
reason resting on a screening fact (convictions, probation, treatment court, a no-contact order,
dealing, exploitation, amenability, documented involvement) is criminal-justice information: the
officer who answered the screening questions reads it in the response to the submission, and
everything intake keeps or publishes says only that the referral did not pass screening
(`SCREENING_REASON`), beside the policy id and version.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class Basis(StrEnum):
    """What a reason rests on, which decides where it may go."""

    OFFENSE = "offense"
    """The door, the offense, the person's age, the contact: stored and published as given."""
    SCREENING = "screening"
    """A screening fact: in the submission's response only; stored and published as `screening`."""


@dataclass(frozen=True)
class Reason:
    """Why a referral is not eligible: a stable code, a plain sentence, and what it rests on."""

    code: str
    message: str
    basis: Basis


BUILT_IN_REASONS: Mapping[str, Basis] = {
    "pathway_not_accepted": Basis.OFFENSE,
    "offense_not_eligible": Basis.OFFENSE,
    "drug_quantity_over_limit": Basis.OFFENSE,
    "drug_type_not_eligible": Basis.OFFENSE,
    "under_minimum_age": Basis.OFFENSE,
    "no_qualifying_contact_driver": Basis.OFFENSE,
    # The date of documented drug or sex-work involvement is one of the screening answers.
    "no_recent_documented_involvement": Basis.SCREENING,
    # Computed from the prior convictions the screening gives (a policy's [convictions] section).
    "disqualifying_conviction": Basis.SCREENING,
}
"""Every code the built-in rules report, with its basis. A policy's exclusions each read a
screening fact (`ExclusionRule.fact`), so every exclusion code rests on screening."""

SCREENING_REASON = Reason("screening", "The referral did not pass the jurisdiction's screening.", Basis.SCREENING)
"""What is kept and published in place of every reason resting on screening facts."""

LEGACY_EXCLUSION_CODES = frozenset({"disqualifying_conviction"})
"""Built-in codes a version without the built-in rule still gives through its own exclusion: the
versions before convictions were computed read the officer's `disqualifying_convictions` list with
this code. Same code, same meaning, same basis (screening); a version with the rule may not."""

RESERVED_REASON_CODES = frozenset({*BUILT_IN_REASONS, SCREENING_REASON.code}) - LEGACY_EXCLUSION_CODES
"""Codes a policy's exclusion may not take: each must keep meaning one thing."""


def built_in(code: str, message: str) -> Reason:
    """A built-in rule's reason, with the basis `BUILT_IN_REASONS` gives its code (a code missing
    there is a bug: `KeyError`, caught by the unit tests that drive every rule)."""
    return Reason(code, message, BUILT_IN_REASONS[code])


def exclusion(code: str, message: str) -> Reason:
    """A policy exclusion's reason: an exclusion reads a screening fact, so it rests on screening."""
    return Reason(code, message, Basis.SCREENING)


def as_kept(reasons: Iterable[Reason]) -> tuple[Reason, ...]:
    """The reasons as intake may store and publish them: those resting on the offense as given,
    then one `SCREENING_REASON` in place of all those resting on screening facts."""
    reasons = tuple(reasons)
    offense = tuple(reason for reason in reasons if reason.basis is Basis.OFFENSE)
    screened_out = len(offense) < len(reasons)
    return (*offense, SCREENING_REASON) if screened_out else offense


def stored(code: str, message: str) -> Reason:
    """A reason read back from storage. Only the built-in offense codes rest on the offense: any
    other code (one stored before reasons were kept this way, say) is taken to rest on screening,
    so `as_kept` never lets it through."""
    basis = Basis.OFFENSE if BUILT_IN_REASONS.get(code) is Basis.OFFENSE else Basis.SCREENING
    return Reason(code, message, basis)
