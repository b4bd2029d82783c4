"""The eligibility rules, each a sentence that either holds or yields a reason.

Every rule reads the policy and the facts and yields the reasons it fails (none when it holds).
Messages are the policy's fixed sentences: they may name the policy's own numbers but never the
facts. Each reason says what it rests on (`reasons.Basis`): a reason resting on screening facts
still tells which screening answer excluded the person, so it goes to the officer in the response
only and is kept as `screening` (see `reasons`).
"""

from calendar import monthrange
from collections.abc import Callable, Iterator
from datetime import date

from divert_intake.domain.convictions import any_disqualifies
from divert_intake.domain.facts import EligibilityFacts
from divert_intake.domain.policy import ExclusionRule, JurisdictionPolicy
from divert_intake.domain.reasons import Reason, built_in, exclusion

Rule = Callable[[JurisdictionPolicy, EligibilityFacts], Iterator[Reason]]


def pathway_is_accepted(policy: JurisdictionPolicy, facts: EligibilityFacts) -> Iterator[Reason]:
    """The jurisdiction takes referrals through this door."""
    if facts.pathway not in policy.pathways:
        yield built_in("pathway_not_accepted", f"{policy.name} does not accept referrals through this pathway.")


def offense_is_eligible(policy: JurisdictionPolicy, facts: EligibilityFacts) -> Iterator[Reason]:
    """The offense is one of the policy's categories (or, where the policy says so, any category not
    excluded when the contact was driven by need), of a drug type it diverts, within its limit."""
    offense = facts.offense
    if offense is None:  # social contact and community referrals may have none
        return
    rule = policy.offense_rule(offense.category)
    if rule is None:
        if not policy.diverts_unlisted(offense.category, facts.contact_drivers):
            yield built_in("offense_not_eligible", f"The offense is not one {policy.name} diverts.")
        return
    if not rule.diverts_drug_type(offense.drug_type):
        yield built_in(
            "drug_type_not_eligible",
            f"{policy.name} diverts {rule.category} only for {', '.join(rule.drug_types)}.",
        )
    quantity = offense.drug_quantity_grams
    if rule.max_drug_grams is None or quantity is None or offense.drug_type in rule.drug_types_without_limit:
        return
    # Written as "not within" so that a quantity that is not a number fails rather than passes.
    if not quantity <= rule.max_drug_grams:
        yield built_in("drug_quantity_over_limit", f"More than {rule.max_drug_grams:g} g of drugs.")


def person_is_old_enough(policy: JurisdictionPolicy, facts: EligibilityFacts) -> Iterator[Reason]:
    """The person has reached the minimum age; an unknown age cannot fail (the API asks for it)."""
    if policy.minimum_age is not None and facts.age is not None and facts.age < policy.minimum_age:
        yield built_in("under_minimum_age", f"The person is under {policy.minimum_age}.")


def contact_has_a_qualifying_driver(policy: JurisdictionPolicy, facts: EligibilityFacts) -> Iterator[Reason]:
    """Where required, the contact was driven by drug use, mental illness or poverty."""
    if policy.requires_contact_driver and not facts.contact_drivers:
        yield built_in(
            "no_qualifying_contact_driver",
            "The contact was not reported as driven by drug use, mental illness or poverty.",
        )


def involvement_is_recently_documented(policy: JurisdictionPolicy, facts: EligibilityFacts) -> Iterator[Reason]:
    """A social contact needs documented involvement in the area within the look-back."""
    rules = policy.social_contact
    if facts.pathway != "social_contact" or rules is None:
        return
    months = rules.prior_involvement_within_months
    documented = facts.screening.prior_involvement_documented_on
    cutoff = months_before(facts.referred_on, months)
    if documented is None or not cutoff <= documented <= facts.referred_on:
        yield built_in(
            "no_recent_documented_involvement",
            f"No documented drug or sex-work involvement in the program area within the last {months} months.",
        )


def no_disqualifying_conviction(policy: JurisdictionPolicy, facts: EligibilityFacts) -> Iterator[Reason]:
    """Where the policy computes convictions, none of the person's disqualifies on the referral date."""
    rules = policy.convictions
    if rules is not None and any_disqualifies(rules, facts.screening.prior_convictions, facts.referred_on):
        yield built_in(
            "disqualifying_conviction",
            "The person has a disqualifying conviction: one that disqualifies at any time, or a related "
            f"offense within {rules.within_years} years.",
        )


def no_exclusion_applies(policy: JurisdictionPolicy, facts: EligibilityFacts) -> Iterator[Reason]:
    """None of the policy's screening exclusions for this pathway applies."""
    for rule in policy.exclusions:
        if rule.applies_to(facts.pathway) and _excludes(rule, facts):
            yield exclusion(rule.code, rule.message)


def _excludes(rule: ExclusionRule, facts: EligibilityFacts) -> bool:
    value = getattr(facts.screening, rule.fact)
    if rule.excluded_if == "non_empty":
        return bool(value)
    return bool(value) is rule.excluded_if


def months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier, clamped to the month's end (31 Mar - 1 → 28/29 Feb).

    Dates before year 1 do not exist; the earliest date stands in for them.
    """
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    if year < 1:
        return date.min
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


# The order reasons are reported in: the door, the offense, the person, then screening.
RULES: tuple[Rule, ...] = (
    pathway_is_accepted,
    offense_is_eligible,
    person_is_old_enough,
    contact_has_a_qualifying_driver,
    involvement_is_recently_documented,
    no_disqualifying_conviction,
    no_exclusion_applies,
)
