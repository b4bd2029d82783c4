"""What the evaluation extract may say of a case's needs (docs/domain.md#the-evaluation-extract).

The extract carries need categories only. A need 42 CFR Part 2 protects (the need labelled
`part2`, or of a Part 2 domain) goes in only when the person has consented to tell the program's
evaluators: a consent in force, marked `part2`, whose scope covers `assessment_needs`, naming a
registered organisation of type `evaluation` — the consent gate's own decision
(`consent_gate.may_disclose`), asked for each evaluator. The consent's purpose is not consulted,
as nowhere in the gate: the contract has no research purpose, and the named party says who may
receive. Withheld needs leave no trace, not even a count.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from divert_assessment.domain.consent_gate import Consent, may_disclose
from divert_assessment.domain.organisations import OrganisationRegistry
from divert_assessment.domain.rules import is_part2
from divert_contracts.cases import ConsentScope, NeedDomain

EVALUATOR_TYPE = "evaluation"
SCOPE: ConsentScope = "assessment_needs"


@dataclass(frozen=True)
class FoundNeed:
    """A need as the assessment recorded it."""

    domain: NeedDomain
    priority: int
    part2: bool

    @property
    def protected(self) -> bool:
        """Part 2 information, by its label or by its domain (either is enough to protect it)."""
        return self.part2 or is_part2(self.domain)


def part2_consented(consents: Iterable[Consent], now: datetime, organisations: OrganisationRegistry) -> bool:
    """Whether a consent in force lets Part 2 needs go to one of the program's evaluators."""
    kept = list(consents)
    evaluators = [org.id for org in organisations.all() if org.type == EVALUATOR_TYPE]
    return any(may_disclose(kept, party, SCOPE, now, organisations=organisations).part2 for party in evaluators)


def evaluation_needs(
    needs: Iterable[FoundNeed], consents: Iterable[Consent], now: datetime, organisations: OrganisationRegistry
) -> list[NeedDomain]:
    """The need categories the extract shows, most urgent first."""
    found = sorted(needs, key=lambda need: (need.priority, need.domain))
    if any(need.protected for need in found) and part2_consented(consents, now, organisations):
        return [need.domain for need in found]
    return [need.domain for need in found if not need.protected]
