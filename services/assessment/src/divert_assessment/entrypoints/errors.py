"""Assessment's own problem responses, beside the platform's (400, 404, 409, 422, 500)."""

from typing import Any

from divert_platform.problems import PROBLEM_JSON, Problem, ProblemDetails, Unprocessable


def invalid(field: str, message: str) -> Unprocessable:
    """A 422 naming the one field at fault (e.g. `query.cursor`)."""
    return Unprocessable(message, errors=[{"field": field, "message": message, "code": "invalid"}])


class ConsentMissing(Problem):
    """No consent in force lets this data go to this party; the problem says which is missing."""

    status, title, kind = 403, "Consent missing", "consent-missing"


CONSENT_MISSING_RESPONSE: dict[int | str, dict[str, Any]] = {
    403: {
        "model": ProblemDetails,
        "description": (
            "The caller's role or agency does not allow this; or no consent in force names the party with a wide "
            "enough scope (`missing` says what is needed); or the party is enforcement (`party_is_enforcement`)"
        ),
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
    }
}
