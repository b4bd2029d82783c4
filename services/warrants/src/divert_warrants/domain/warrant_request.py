"""The warrant-request aggregate: one referral's request, rebuilt from its events.

Lifecycle: `requested` → `rescinded` (wrongful or moot before anyone acted) or `acknowledged`
(the prosecutor or court took it and acts outside Divert). An acknowledged request found wrongful
afterwards is never changed silently: it stays acknowledged and is flagged, once, for review.

The prosecutor records what they did with it, once: its disposition. A disposition of a request
nobody acknowledged yet acknowledges it first (by the prosecutor): a request acted on is never
rescinded silently afterwards, only flagged. Nothing may be filed on a request that is rescinded or
flagged (`may_file`): `filed` is refused there (`FilingRefused`); declining or returning the person
to the program is always allowed.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from divert_contracts.referrals import LapseAction
from divert_contracts.warrants import AcknowledgingRole, Disposition, RescissionReason
from divert_platform.aggregate import Aggregate, applies
from divert_warrants.domain import events
from divert_warrants.domain.commands import RequestWarrant


class WarrantRequestStatus(StrEnum):
    """Where a warrant request stands."""

    REQUESTED = "requested"
    RESCINDED = "rescinded"
    ACKNOWLEDGED = "acknowledged"


class InvalidWarrantRequest(ValueError):
    """A command that contradicts its own data, e.g. a lapse before the due time."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class InvalidTransition(Exception):
    """The request's current state does not allow the command; `current_state` says where it is."""

    def __init__(self, action: str, current_state: WarrantRequestStatus | None, detail: str = "") -> None:
        super().__init__(f"cannot {action} a request that is {current_state or 'not recorded'}{detail}")
        self.action = action
        self.current_state = current_state


class FilingRefused(Exception):
    """`filed` on a request nothing may be filed on (rescinded, or flagged as wrongful)."""

    def __init__(self, status: WarrantRequestStatus | None, flagged: bool) -> None:
        why = "was flagged as wrongful" if flagged else f"is {status}"
        super().__init__(f"nothing may be filed on this warrant request: it {why}")
        self.current_state = status


def may_file(status: WarrantRequestStatus | str | None, flagged: bool) -> bool:
    """Whether anything may be filed on a request: never once rescinded or flagged as wrongful."""
    return status in (WarrantRequestStatus.REQUESTED, WarrantRequestStatus.ACKNOWLEDGED) and not flagged


@dataclass
class WarrantRequest(Aggregate[events.WarrantRequestEvent]):
    """A warrant request: takes commands, checks them against its status, records events."""

    stream_prefix = "warrant-request"

    status: WarrantRequestStatus | None = None
    referral_id: UUID | None = None
    jurisdiction: str = ""
    kind: LapseAction | None = None
    assessment_due_by: datetime | None = None
    lapsed_at: datetime | None = None
    requested_at: datetime | None = None
    rescission_reason: RescissionReason | None = None
    acknowledged_by: AcknowledgingRole | None = None
    flag_reason: RescissionReason | None = None
    disposition: Disposition | None = None

    @property
    def flagged(self) -> bool:
        """True once an acknowledged request was found wrongful."""
        return self.flag_reason is not None

    @classmethod
    def request(cls, command: RequestWarrant) -> "WarrantRequest":
        """Record the request; a window cannot lapse before it was due (no wrongful warrant)."""
        if command.lapsed_at < command.assessment_due_by:
            raise InvalidWarrantRequest("lapsed_at", "lapsed_at is before assessment_due_by: the window was still open")
        request = cls(id=command.warrant_request_id)
        request._record(
            events.WarrantRequested(
                warrant_request_id=command.warrant_request_id,
                referral_id=command.referral_id,
                jurisdiction=command.jurisdiction,
                kind=command.kind,
                assessment_due_by=command.assessment_due_by,
                lapsed_at=command.lapsed_at,
                requested_at=command.at,
            )
        )
        return request

    def rescind(self, reason: RescissionReason, now: datetime) -> None:
        """Withdraw a request nobody has acted on yet."""
        if self.status is not WarrantRequestStatus.REQUESTED:
            raise InvalidTransition("rescind", self.status)
        self._record(events.RequestRescinded(**self._ids(), reason=reason, rescinded_at=now))

    def acknowledge(self, by: AcknowledgingRole, now: datetime) -> None:
        """The prosecutor or court takes the request. The same role acknowledging again changes
        nothing (a retry); another role, or a rescinded request, is an invalid transition."""
        if self.status is WarrantRequestStatus.ACKNOWLEDGED and self.acknowledged_by == by:
            return
        if self.status is not WarrantRequestStatus.REQUESTED:
            by_whom = f" (by the {self.acknowledged_by})" if self.acknowledged_by else ""
            raise InvalidTransition("acknowledge", self.status, by_whom)
        self._record(events.RequestAcknowledged(**self._ids(), acknowledged_by=by, acknowledged_at=now))

    def flag(self, reason: RescissionReason, now: datetime) -> None:
        """Flag an acknowledged request found wrongful, for the prosecutor's review (once only)."""
        if self.status is not WarrantRequestStatus.ACKNOWLEDGED or self.flagged:
            raise InvalidTransition("flag", self.status, " and flagged" if self.flagged else "")
        self._record(events.WrongfulRequestFlagged(**self._ids(), reason=reason, flagged_at=now))

    def set_right(self, reason: RescissionReason, now: datetime) -> None:
        """The request turned out wrongful or moot: rescind it if nobody acted on it yet, flag it
        if the prosecutor or court already did; a request already rescinded or flagged stays as is."""
        if self.status is WarrantRequestStatus.REQUESTED:
            self.rescind(reason, now)
        elif self.status is WarrantRequestStatus.ACKNOWLEDGED and not self.flagged:
            self.flag(reason, now)

    def dispose(self, disposition: Disposition, now: datetime) -> None:
        """Record what the prosecutor did, once (acknowledging a request nobody acknowledged yet).
        The same disposition again changes nothing (a retry); another one is an invalid transition;
        `filed` where nothing may be filed is `FilingRefused`."""
        if self.status is None:
            raise InvalidTransition("record a disposition of", self.status)
        if self.disposition == disposition:
            return
        if self.disposition is not None:
            raise InvalidTransition("record a disposition of", self.status, f" and already {self.disposition}")
        if disposition == "filed" and not may_file(self.status, self.flagged):
            raise FilingRefused(self.status, self.flagged)
        if self.status is WarrantRequestStatus.REQUESTED:
            self.acknowledge("prosecutor", now)  # acted on: from now on a wrongful finding flags it
        self._record(events.RequestDisposed(**self._ids(), disposition=disposition, disposed_at=now))

    def _ids(self) -> dict[str, Any]:
        return {"warrant_request_id": self.id, "referral_id": self.referral_id, "jurisdiction": self.jurisdiction}

    @applies
    def _requested(self, event: events.WarrantRequested) -> None:
        self.status = WarrantRequestStatus.REQUESTED
        self.referral_id, self.jurisdiction, self.kind = event.referral_id, event.jurisdiction, event.kind
        self.assessment_due_by, self.lapsed_at = event.assessment_due_by, event.lapsed_at
        self.requested_at = event.requested_at

    @applies
    def _rescinded(self, event: events.RequestRescinded) -> None:
        self.status, self.rescission_reason = WarrantRequestStatus.RESCINDED, event.reason

    @applies
    def _acknowledged(self, event: events.RequestAcknowledged) -> None:
        self.status, self.acknowledged_by = WarrantRequestStatus.ACKNOWLEDGED, event.acknowledged_by

    @applies
    def _flagged(self, event: events.WrongfulRequestFlagged) -> None:
        self.flag_reason = event.reason

    @applies
    def _disposed(self, event: events.RequestDisposed) -> None:
        self.disposition = event.disposition
