"""Which changes of a referral its agency's systems are called back about, and what each says.

Status only, as the police status view shows it (LEAD's golden rule): what the referral's status
became, the police's own references, and instants — never the person's details, the screening
facts, or anything of the case agency's work beyond "assessed", "enrolled" and "closed".
A prosecutor's office (audience `jurisdiction`) may subscribe only to the changes that decide
whether a warrant may be sought.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, get_args
from uuid import NAMESPACE_URL, uuid5

from divert_intake.domain import events
from divert_platform.callbacks.outbox import StatusChange
from divert_platform.clock import utcnow

CallbackType = Literal[
    "referral.pending_approval",
    "referral.accepted",
    "referral.declined",
    "referral.assessed",
    "referral.enrolled",
    "referral.closed",
    "referral.lapsed",
    "referral.warrant_requested",
    "referral.warrant_rescinded",
    "referral.withdrawn",
]
"""Every callback type, in the order a referral usually meets them."""

CALLBACK_TYPES: tuple[CallbackType, ...] = get_args(CallbackType)

PROSECUTION_TYPES: tuple[CallbackType, ...] = (
    "referral.pending_approval",
    "referral.lapsed",
    "referral.warrant_requested",
    "referral.warrant_rescinded",
    "referral.withdrawn",
)
"""The types a jurisdiction-wide (prosecutor's office) endpoint may receive: a referral waiting for
the office's approval, and the changes that decide whether a warrant may be sought."""

_NAMESPACE = uuid5(NAMESPACE_URL, "https://divert.invalid/callbacks")


def status_change(event: events.ReferralEvent, version: int, view: Mapping[str, Any]) -> StatusChange | None:
    """The change `event` (the `version`-th of its referral) makes known, or None when it is none
    partners are told of. `view` is the referral's police status row, already updated by it."""
    data: dict[str, Any]
    match event:
        case events.ApprovalRequested():
            kind, at = "pending_approval", event.requested_at
            data = {
                "approver": event.approver,
                "decide_by": _iso(event.decide_by),
                "policy_version": event.policy_version,
            }
        case events.ReferralAccepted():
            kind, at = "accepted", event.approved_at or event.referred_at
            data = {
                "assessment_due_by": _iso(event.assessment_due_by),
                "lapse_action": event.lapse_action,
                "policy_version": event.policy_version,
            }
        case events.ReferralDeclined():
            kind, at = "declined", event.referred_at
            data = {"reasons": [reason.code for reason in event.reasons], "policy_version": event.policy_version}
        case events.AssessmentRecorded():
            kind, at = "assessed", event.completed_at
            data = {"on_time": event.on_time, "completed_at": _iso(event.completed_at)}
        case events.EnrollmentNoted():
            kind, at, data = "enrolled", event.enrolled_at, {"enrolled_at": _iso(event.enrolled_at)}
        case events.ClosureNoted():
            kind, at, data = "closed", event.closed_at, {"closed_at": _iso(event.closed_at)}
        case events.AssessmentDeadlineLapsed():
            kind, at = "lapsed", event.lapsed_at
            data = {
                "assessment_due_by": _iso(event.assessment_due_by),
                "lapsed_at": _iso(event.lapsed_at),
                "lapse_action": event.lapse_action,
            }
        case events.WarrantRequestNoted():
            kind, at, data = "warrant_requested", utcnow(), {"warrant_request_id": str(event.warrant_request_id)}
        case events.WarrantRescissionNoted():
            kind, at, data = "warrant_rescinded", utcnow(), {"warrant_request_id": str(event.warrant_request_id)}
        case events.ReferralWithdrawn():
            kind, at, data = "withdrawn", event.withdrawn_at, {"withdrawn_at": _iso(event.withdrawn_at)}
        case _:
            return None
    referral_id = str(event.referral_id)
    return StatusChange(
        event_id=str(uuid5(_NAMESPACE, f"{referral_id}/{version}")),
        event_type=f"referral.{kind}",
        subject=referral_id,
        sequence=version,
        jurisdiction=view["jurisdiction"],
        agency=view["agency"],
        occurred_at=at,
        data={
            "referral_id": referral_id,
            "sequence": version,
            "status": view["status"],
            "jurisdiction": view["jurisdiction"],
            "pathway": view["pathway"],
            "rms": {"agency": view["agency"], "case_number": view["case_number"]},
            **data,
        },
    )


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
