"""How the warrants API answers each refusal of its domain (beside the platform's own).

Intake's deadline worker tells its 409s apart by problem `type` (`divert_contracts.warrant_requests`):
only `lapse-not-recorded` and `concurrent-request` change on retry, and both say when (`Retry-After`).
"""

from divert_contracts.warrant_requests import LAPSE_NOT_RECORDED, LAPSE_SUPERSEDED
from divert_platform.problems import Conflict, NotFound, Problem, ProblemMap, invalid
from divert_warrants.domain.referral_facts import LapseNotRecorded, LapseSuperseded
from divert_warrants.domain.warrant_request import FilingRefused, InvalidTransition, InvalidWarrantRequest
from divert_warrants.service_layer.handlers import RequestNotFound
from divert_warrants.service_layer.ports import DuplicateWarrantRequest

RETRY_AFTER_SECONDS = 5
"""Time enough for intake's relay and warrants' consumer to carry a lapse across, usually."""


class LapseNotRecordedProblem(Problem):
    """Warrants has not heard yet of the referral's acceptance or lapse: the same call succeeds later."""

    status, title, kind = 409, "Lapse not recorded yet", LAPSE_NOT_RECORDED
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}


class ConcurrentRequestProblem(Problem):
    """Another call for the same referral was recorded at the same moment; a retry returns its request."""

    status, title, kind = 409, "Concurrent request", "concurrent-request"
    headers = {"Retry-After": "1"}


class LapseSupersededProblem(Problem):
    """The recorded lapse is before the due time in force: no request may stand on it."""

    status, title, kind = 409, "Lapse superseded by an extension", LAPSE_SUPERSEDED


class FilingRefusedProblem(Problem):
    """`filed` on a request nothing may be filed on: rescinded, or flagged as wrongful."""

    status, title, kind = 409, "Nothing may be filed", "filing-refused"


PROBLEMS: ProblemMap = {
    RequestNotFound: lambda error: NotFound(str(error)),
    InvalidTransition: lambda error: Conflict(str(error), current_state=error.current_state),
    InvalidWarrantRequest: lambda error: invalid(f"body.{error.field}", str(error)),
    DuplicateWarrantRequest: lambda _: ConcurrentRequestProblem(
        "concurrent requests for this referral collided; retry"
    ),
    LapseNotRecorded: lambda error: LapseNotRecordedProblem(str(error), missing=error.missing),
    LapseSuperseded: lambda error: LapseSupersededProblem(str(error)),
    FilingRefused: lambda error: FilingRefusedProblem(
        str(error), field="body.disposition", current_state=error.current_state
    ),
}
