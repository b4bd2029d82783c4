"""Eligibility: every rule of the jurisdiction's policy, every failing rule reported.

Screening facts are read here and nowhere else; only the decision, the policy version and the
reason codes leave this module.
"""

from dataclasses import dataclass

from divert_contracts.referrals import Pathway
from divert_intake.domain.facts import Offense, Screening
from divert_intake.domain.policy import ExclusionRule, JurisdictionPolicy


@dataclass(frozen=True)
class Reason:
    """Why a referral is not eligible: a stable code and a plain sentence."""

    code: str
    message: str


@dataclass(frozen=True)
class Decision:
    """The eligibility decision, with the policy version that made it."""

    eligible: bool
    policy: str
    policy_version: str
    reasons: tuple[Reason, ...]


def decide(policy: JurisdictionPolicy, pathway: Pathway, offense: Offense, screening: Screening) -> Decision:
    """Evaluate every rule of `policy` and report each one the referral fails."""
    reasons = [
        *_pathway_reasons(policy, pathway),
        *_offense_reasons(policy, offense),
        *(Reason(rule.code, rule.message) for rule in policy.exclusions if _excludes(rule, screening)),
    ]
    return Decision(not reasons, policy.id, policy.version, tuple(reasons))


def _pathway_reasons(policy: JurisdictionPolicy, pathway: Pathway) -> list[Reason]:
    if pathway in policy.pathways:
        return []
    return [Reason("pathway_not_accepted", f"{policy.name} does not accept {pathway} referrals.")]


def _offense_reasons(policy: JurisdictionPolicy, offense: Offense) -> list[Reason]:
    rule = policy.offense_rule(offense.category)
    if rule is None:
        return [Reason("offense_not_eligible", f"{offense.category} is not an eligible offense in {policy.name}.")]
    over_limit = (
        rule.max_drug_grams is not None
        and offense.drug_quantity_grams is not None
        and offense.drug_quantity_grams > rule.max_drug_grams
        and offense.drug_type not in rule.drug_types_without_limit
    )
    if over_limit:
        return [Reason("drug_quantity_over_limit", f"More than {rule.max_drug_grams:g} g of drugs.")]
    return []


def _excludes(rule: ExclusionRule, screening: Screening) -> bool:
    value = getattr(screening, rule.fact)
    if rule.excluded_if == "non_empty":
        return bool(value)
    return bool(value) is rule.excluded_if
