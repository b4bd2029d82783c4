"""Eligibility: every rule of the jurisdiction's policy, every failing rule reported.

Screening facts are read here (and by the rules in `eligibility_rules`) and nowhere else; only the
decision, the policy version and the reason codes leave this module. Reasons resting on screening
facts leave it whole only for the officer's response: what is kept is `Decision.kept` (see
`reasons`).
"""

from dataclasses import dataclass

from divert_intake.domain.eligibility_rules import RULES
from divert_intake.domain.facts import EligibilityFacts
from divert_intake.domain.policy import JurisdictionPolicy
from divert_intake.domain.reasons import Reason, as_kept

__all__ = ["Decision", "Reason", "decide"]


@dataclass(frozen=True)
class Decision:
    """The eligibility decision, with the policy version that made it."""

    eligible: bool
    policy: str
    policy_version: str
    reasons: tuple[Reason, ...]

    @property
    def kept(self) -> "Decision":
        """The decision as intake may store and publish it: every reason resting on screening
        facts replaced by one `screening` reason."""
        return Decision(self.eligible, self.policy, self.policy_version, as_kept(self.reasons))


def decide(policy: JurisdictionPolicy, facts: EligibilityFacts) -> Decision:
    """Evaluate every rule of `policy` and report each one the referral fails.

    Never raises for any facts: the API validates its input, and a rule that cannot be judged (an
    unknown age, say) holds rather than failing the whole referral.
    """
    reasons = tuple(reason for rule in RULES for reason in rule(policy, facts))
    return Decision(not reasons, policy.id, policy.version, reasons)
