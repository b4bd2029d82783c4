"""Who or what a change is made for: stored as the metadata of every event it records."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Cause:
    """Who or what a unit of work acts for; stored as the metadata of every event it records.

    A route's cause is the caller's verified token; a consumer's is the event it applies (its
    CloudEvents source, id and time); a workflow activity's is the workflow.
    """

    actor: str
    role: str
    agency: str | None = None
    causation_id: str | None = None
    time: datetime | None = None
    """When the causing event happened, by its producer's clock (consumers only)."""

    def metadata(self) -> dict[str, Any]:
        """Event-store metadata attributing a change to this cause: a caller's agency, or the id of
        the event that caused it."""
        if self.causation_id is not None:
            return {"actor": self.actor, "role": self.role, "causation_id": self.causation_id}
        return {"actor": self.actor, "role": self.role, "agency": self.agency}


NO_CAUSE = Cause(actor="unknown", role="service")
"""The cause of a unit of work nobody attributed (never so in Divert's own entrypoints)."""


def caused_by_event(source: str, event_id: str, time: datetime | None) -> Cause:
    """The cause of changes made for another service's event (actor = its CloudEvents source)."""
    return Cause(actor=source, role="service", causation_id=event_id, time=time)
