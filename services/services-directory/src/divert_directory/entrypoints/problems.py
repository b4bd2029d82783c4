"""How the directory's API answers each refusal of its domain (beside the platform's own)."""

from typing import Any

from divert_directory.domain.consent_check import REFERRAL_PURPOSES, ConsentDecision
from divert_directory.domain.errors import (
    CapacityOutOfScope,
    CaseIsClosed,
    InvalidStatusChange,
    NoConsentInForce,
    ReasonMisplaced,
    ServiceUnsuitable,
)
from divert_directory.service_layer.handlers import CaseNotFound, ServiceNotFound, ServiceReferralNotFound
from divert_platform.problems import (
    Conflict,
    ConsentMissing,
    Forbidden,
    NotFound,
    ProblemMap,
    invalid,
    problem_responses,
)


def consent_missing(decision: ConsentDecision) -> ConsentMissing:
    """The platform's 403 `consent-missing`, with what is missing as structured data."""
    return ConsentMissing(
        decision.explanation,
        missing={
            "reason": decision.refusal.value if decision.refusal else None,
            "organization_id": str(decision.organization_id),
            "purposes": list(REFERRAL_PURPOSES),
            "part2": decision.part2_needed,
        },
    )


PROBLEMS: ProblemMap = {
    CaseNotFound: lambda error: NotFound(str(error)),
    ServiceReferralNotFound: lambda error: NotFound(str(error)),
    ServiceNotFound: lambda error: NotFound(str(error)),
    ServiceUnsuitable: lambda error: invalid(f"body.{error.field}", str(error)),
    ReasonMisplaced: lambda error: invalid("body.reason", str(error)),
    CaseIsClosed: lambda error: Conflict(str(error), current_state="closed"),
    InvalidStatusChange: lambda error: Conflict(str(error), current_status=error.current, allowed=list(error.allowed)),
    NoConsentInForce: lambda error: consent_missing(error.decision),
    CapacityOutOfScope: lambda error: Forbidden(str(error)),
}

CONSENT_MISSING = (
    "The caller's role or scope does not allow this; or no consent in force allows the referral "
    "(`consent-missing`: `missing` names the organization, the purposes and whether it must be marked part2, "
    "and `reason`: no_consent_for_organization, purpose_not_covered, consent_not_part2, consent_revoked, "
    "consent_expired)"
)
"""What a referral's 403 can mean (its OpenAPI description)."""
CASE_CLOSED_RESPONSE: dict[int | str, dict[str, Any]] = {
    409: problem_responses(409)[409]
    | {"description": "The case is closed (`current_state`): nobody is referred from it until it is reopened"}
}
"""What a referral's 409 means (its OpenAPI entry)."""
