"""How the assessment API answers each refusal of its domain (beside the platform's own)."""

from typing import Any

from divert_assessment.domain.consent_gate import Refusal
from divert_assessment.domain.errors import ConsentAlreadyRevoked, ConsentNotFound, InvalidTransition, RulesBroken
from divert_assessment.service_layer.disclosures import DisclosureRefused
from divert_assessment.service_layer.handlers import CaseNotFound
from divert_platform.problems import (
    Conflict,
    ConsentMissing,
    Forbidden,
    NotFound,
    Problem,
    ProblemMap,
    Unprocessable,
    consent_missing_response,
)

CONSENT_MISSING_RESPONSE = consent_missing_response(
    "The caller's role or agency does not allow this; or no consent in force names the party with a wide "
    "enough scope (`consent-missing`: `missing` says what is needed); or the party is police, prosecution, a "
    "court, supervision or a jail (`party_is_enforcement`, with its `party_type`)"
)
"""The OpenAPI entry of the disclosure route's 403."""


def _conflict(error: InvalidTransition) -> Conflict:
    """409 saying where the case stands (and an enrolled participant's engagement)."""
    where: dict[str, Any] = {"current_state": error.current_state}
    if error.engagement:
        where["engagement"] = error.engagement
    return Conflict(str(error), **where)


def _unprocessable(error: RulesBroken) -> Unprocessable:
    """422 naming each request field a broken rule is about."""
    errors = [{"field": f"body.{v.field}", "message": v.message, "code": v.code} for v in error.violations]
    return Unprocessable(str(error), errors=errors)


def _refused(error: DisclosureRefused) -> Problem:
    """422 naming `body.party` when it is not registered; 403 when it is enforcement (never, the
    golden rule) or when the consent is missing (saying which)."""
    decision = error.decision
    if decision.refusal == Refusal.NOT_REGISTERED:
        errors = [{"field": "body.party", "message": decision.explanation, "code": "unregistered_party"}]
        return Unprocessable(decision.explanation, errors=errors, reason=decision.refusal, party=decision.party)
    if decision.refusal == Refusal.ENFORCEMENT_PARTY:
        return Forbidden(
            decision.explanation,
            reason=decision.refusal,
            party=decision.party,
            party_type=decision.party_type,
            field="body.party",
        )
    missing = {"party": decision.party, "scope": decision.scope}
    return ConsentMissing(decision.explanation, reason=decision.refusal, missing=missing)


PROBLEMS: ProblemMap = {
    CaseNotFound: lambda error: NotFound(str(error)),
    ConsentNotFound: lambda error: NotFound(str(error)),
    InvalidTransition: _conflict,
    ConsentAlreadyRevoked: lambda error: Conflict(
        str(error), consent_id=str(error.consent_id), revoked_at=error.revoked_at.isoformat()
    ),
    RulesBroken: _unprocessable,
    DisclosureRefused: _refused,
}
