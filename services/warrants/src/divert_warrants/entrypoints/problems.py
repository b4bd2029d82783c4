"""How the warrants API answers each refusal of its domain (beside the platform's own)."""

from divert_platform.problems import Conflict, NotFound, ProblemMap, invalid
from divert_warrants.domain.warrant_request import InvalidTransition, InvalidWarrantRequest
from divert_warrants.service_layer.handlers import RequestNotFound
from divert_warrants.service_layer.ports import DuplicateWarrantRequest

PROBLEMS: ProblemMap = {
    RequestNotFound: lambda error: NotFound(str(error)),
    InvalidTransition: lambda error: Conflict(str(error), current_state=error.current_state),
    InvalidWarrantRequest: lambda error: invalid(f"body.{error.field}", str(error)),
    DuplicateWarrantRequest: lambda _: Conflict("concurrent requests for this referral collided; retry"),
}
