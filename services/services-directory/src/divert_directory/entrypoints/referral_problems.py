"""Problem responses of the case-agency routes, beside the platform's (400, 404, 409, 422, 500)."""

from typing import Any

from divert_directory.domain.consent_check import REFERRAL_PURPOSES, ConsentDecision
from divert_platform.problems import PROBLEM_JSON, Problem, ProblemDetails, Unprocessable


def invalid(field: str, message: str) -> Unprocessable:
    """A 422 naming the one field at fault (e.g. `body.service_id`)."""
    return Unprocessable(message, errors=[{"field": field, "message": message, "code": "invalid"}])


class ConsentMissing(Problem):
    """No consent in force allows the referral; `missing` says which consent would."""

    status, title, kind = 409, "Consent missing", "consent-missing"


def consent_missing(decision: ConsentDecision) -> ConsentMissing:
    """The 409 for a refused consent check, with what is missing as structured data."""
    return ConsentMissing(
        decision.explanation,
        missing={
            "reason": decision.refusal.value if decision.refusal else None,
            "organization_id": str(decision.organization_id),
            "purposes": list(REFERRAL_PURPOSES),
            "part2": decision.part2_needed,
        },
    )


CONSENT_MISSING_RESPONSE: dict[int | str, dict[str, Any]] = {
    409: {
        "model": ProblemDetails,
        "description": (
            "Conflicts with the current state: the case is closed, or no consent in force allows the referral "
            "(`missing` names the organization, purposes and whether it must be marked part2, and `reason`: "
            "no_consent_for_organization, purpose_not_covered, consent_not_part2, consent_revoked, consent_expired)"
        ),
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
    }
}
