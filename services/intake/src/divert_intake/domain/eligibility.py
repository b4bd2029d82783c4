"""Eligibility: every rule of the jurisdiction's policy, every failing rule reported.

Screening facts are read here (and by the rules in `eligibility_rules`) and nowhere else; only the
decision, the policy version and the reason codes leave this module.
"""

from dataclasses import dataclass

from divert_intake.domain.eligibility_rules import RULES, Reason
from divert_intake.domain.facts import EligibilityFacts
from divert_intake.domain.policy import JurisdictionPolicy

__all__ = ["Decision", "Reason", "decide"]


@dataclass(frozen=True)
class Decision:
    """The eligibility decision, with the policy version that made it."""

    eligible: bool
    policy: str
    policy_version: str
    reasons: tuple[Reason, ...]


def decide(policy: JurisdictionPolicy, facts: EligibilityFacts) -> Decision:
    """Evaluate every rule of `policy` and report each one the referral fails.

    Never raises for any facts: the API validates its input, and a rule that cannot be judged (an
    unknown age, say) holds rather than failing the whole referral.
    """
    reasons = tuple(reason for rule in RULES for reason in rule(policy, facts))
    return Decision(not reasons, policy.id, policy.version, reasons)
