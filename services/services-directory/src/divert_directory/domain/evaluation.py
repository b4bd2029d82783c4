"""Which service referrals the evaluation report may show (docs/domain.md#the-evaluation-extract).

The report lists the services a jurisdiction's cases were referred to, for program managers and
the program's evaluators, beside assessment's evaluation extract. A referral for a need 42 CFR
Part 2 protects tells that the person has a substance-use-treatment need, so it may appear only
under the rule the extract applies to Part 2 needs: a consent in force, marked `part2`, with
scope `assessment_needs` or wider, naming a registered organisation of type `evaluation`.

The directory cannot apply that rule. Its consents (`case_facts.ConsentFact`) carry the parties'
ids, the scope and the Part 2 mark, but not what kind of organisation each party is: the registry
of organisations, and with it which ids are the program's evaluators, is assessment's
(`DIVERT_ORGANISATIONS_FILE`), and `case.consent_recorded` does not carry party types. A consent
naming an id the directory cannot tell is an evaluator's never shows that the person agreed to
tell the evaluators, so a Part 2 service referral is always withheld here, without a trace.
"""

from collections.abc import Collection

from divert_contracts.cases import PART2_DOMAINS

PROTECTED_NEEDS: Collection[str] = PART2_DOMAINS
"""Needs whose referrals are Part 2 information whatever their own label says."""


def protected(need: str, part2: bool) -> bool:
    """Part 2 information, by the referral's label or by its need (either is enough to protect
    it), as assessment's extract decides for a need."""
    return part2 or need in PROTECTED_NEEDS


def shown_to_evaluators(need: str, part2: bool) -> bool:
    """Whether a service referral for `need` (labelled `part2` or not) appears in the report.

    Only when it is not Part 2 information: the consent that would let it go to the evaluators
    names an organisation the directory cannot recognise as one (see the module's docstring).
    """
    return not protected(need, part2)
