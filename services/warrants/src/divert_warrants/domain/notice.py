"""What a warrant request asks of the prosecutor or court, in plain words, and whether anything may
be filed on it: the actionable part of a lapse notice."""

from divert_contracts.referrals import LapseAction
from divert_contracts.warrants import Disposition, RescissionReason
from divert_warrants.domain.warrant_request import WarrantRequestStatus

_ASKS: dict[LapseAction, str] = {
    "warrant_request": "the prosecutor may request a warrant on the police case",
    "return_for_charging": "the police case returns to the prosecutor for a charging decision",
}
_BECAUSE: dict[RescissionReason, str] = {
    "assessed_before_deadline": "the person was assessed on time",
    "referral_withdrawn": "the police withdrew the referral",
}
_DONE: dict[Disposition, str] = {
    "filed": "filed",
    "declined_to_file": "declined to file",
    "returned_to_program": "returned to the program",
}


def notice(
    kind: LapseAction,
    status: WarrantRequestStatus | str,
    rescission_reason: RescissionReason | None,
    flag_reason: RescissionReason | None,
    disposition: Disposition | None,
) -> str:
    """The request's notice: what it asks, or why nothing may be filed, and what was recorded."""
    if status == WarrantRequestStatus.RESCINDED:
        because = _BECAUSE[rescission_reason] if rescission_reason else "it did not stand"
        text = f"Rescinded because {because}. Nothing may be filed on this request."
    elif flag_reason is not None:
        text = (
            f"Found wrongful after it was acknowledged: {_BECAUSE[flag_reason]}. Nothing may be filed on this "
            "request; review anything already done on it."
        )
    else:
        text = f"The assessment window closed without an assessment: {_ASKS[kind]}."
    if disposition is not None:
        text += f" The prosecutor recorded: {_DONE[disposition]}."
    return text
