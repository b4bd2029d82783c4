"""How the intake API answers each refusal of its domain (beside the platform's own), and the
problems its routes raise themselves."""

from divert_intake.domain.referral import ApprovalForbidden, InvalidReferral, InvalidTransition
from divert_intake.service_layer.handlers import ReferralNotFound
from divert_intake.service_layer.ports import DuplicateActiveReferral
from divert_platform.problems import Conflict, Forbidden, NotFound, ProblemMap, invalid


class UnsafeTargetNow(Conflict):
    """An endpoint's address now resolves where no callback may go (enabling it is refused)."""

    kind = "unsafe-target"


PROBLEMS: ProblemMap = {
    ReferralNotFound: lambda error: NotFound(str(error)),
    InvalidTransition: lambda error: Conflict(str(error), current_state=str(error.current)),
    InvalidReferral: lambda error: invalid(f"body.{error.field}", str(error)),
    DuplicateActiveReferral: lambda error: Conflict(str(error), existing_referral_id=error.existing_referral_id),
    ApprovalForbidden: lambda error: Forbidden(str(error)),
}
