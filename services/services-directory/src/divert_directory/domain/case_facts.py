"""What the directory knows of a case from `divert.cases`: enough to match it and to check consent.

Case events arrive at least once, late and in any order (a revocation may come before the consent
it revokes, a closure before the opening). So nothing here assumes an order: every `note_*` is a
merge that gives the same facts whichever order the events came in, and hearing one twice changes
nothing. Only ids, codes, priorities and times are kept — no names, no contact details.

Case facts and consents are state, not event-sourced: the events that told them are assessment's,
so the directory keeps only the merged result, one row per case and per consent updated in place
(`adapters/case_facts.py`).
"""

from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from divert_contracts.cases import ConsentPurpose, ConsentScope, NeedDomain


@dataclass(frozen=True)
class NeedFact:
    """A need found at the case's assessment (priority 1 is the most urgent)."""

    domain: NeedDomain
    priority: int
    part2: bool


@dataclass
class CaseFacts:
    """A case as far as the directory has heard of it (from any of its events)."""

    referral_id: UUID
    jurisdiction: str
    agency: str | None
    """The case agency owning the case (whose case managers may use it); None when none serves
    its jurisdiction, and then no case manager can."""
    opened_at: datetime | None = None
    """None until `case.opened` is heard (it may come after later events)."""
    needs: tuple[NeedFact, ...] = ()
    assessed_at: datetime | None = None
    closed_at: datetime | None = None
    last_closure_at: datetime | None = None
    """When the latest closure was recorded (its CloudEvents time), to order it against reopenings."""
    last_reopening_at: datetime | None = None

    def note_opening(self, opened_at: datetime) -> None:
        """Remember the opening; the earliest heard counts."""
        if self.opened_at is None or opened_at < self.opened_at:
            self.opened_at = opened_at

    def note_assessment(self, completed_at: datetime, needs: tuple[NeedFact, ...]) -> bool:
        """Keep the needs of the latest assessment; an older one arriving late changes nothing.

        Returns whether the needs were taken. Equal times keep what is there, so a redelivery
        is a no-op.
        """
        if self.assessed_at is not None and completed_at <= self.assessed_at:
            return False
        self.assessed_at, self.needs = completed_at, tuple(sorted(needs, key=lambda n: (n.priority, n.domain)))
        return True

    def note_closure(self, closed_at: datetime, recorded_at: datetime) -> None:
        """Remember a closure recorded at `recorded_at` (the latest closure counts)."""
        if self.last_closure_at is None or recorded_at > self.last_closure_at:
            self.last_closure_at, self.closed_at = recorded_at, closed_at

    def note_reopening(self, recorded_at: datetime) -> None:
        """Remember a reopening recorded at `recorded_at` (the latest counts)."""
        if self.last_reopening_at is None or recorded_at > self.last_reopening_at:
            self.last_reopening_at = recorded_at

    @property
    def closed(self) -> bool:
        """Closed when the latest closure was recorded after the latest reopening.

        The times compared are when each was recorded, not the closure's own `closed_at`, which a
        case manager may backdate to before an earlier reopening.
        """
        if self.last_closure_at is None:
            return False
        return self.last_reopening_at is None or self.last_closure_at > self.last_reopening_at


@dataclass(frozen=True)
class ConsentFact:
    """A consent recorded on a case, or only its revocation when that was heard first."""

    consent_id: UUID
    referral_id: UUID
    parties: tuple[str, ...] = ()
    purpose: ConsentPurpose | None = None
    scope: ConsentScope | None = None
    part2: bool = False
    recorded_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def recorded(self) -> bool:
        """True once the consent itself has been heard (not only its revocation)."""
        return self.recorded_at is not None

    def in_force(self, now: datetime) -> bool:
        """Recorded, not revoked and not yet expired at `now`."""
        return self.recorded and self.revoked_at is None and self.expires_at is not None and now < self.expires_at

    def names(self, party: str) -> bool:
        """True when `party` is one of the consent's recipients (ids compared case-insensitively)."""
        wanted = party.strip().casefold()
        return any(named.strip().casefold() == wanted for named in self.parties)

    def with_record(
        self,
        *,
        parties: tuple[str, ...],
        purpose: ConsentPurpose,
        scope: ConsentScope,
        part2: bool,
        recorded_at: datetime,
        expires_at: datetime,
    ) -> "ConsentFact":
        """This consent with what its recording says; a consent already recorded stays as first heard."""
        if self.recorded:
            return self
        return replace(
            self,
            parties=parties,
            purpose=purpose,
            scope=scope,
            part2=part2,
            recorded_at=recorded_at,
            expires_at=expires_at,
        )

    def with_revocation(self, revoked_at: datetime) -> "ConsentFact":
        """This consent revoked at `revoked_at`; of several revocations heard, the earliest counts."""
        if self.revoked_at is not None and self.revoked_at <= revoked_at:
            return self
        return replace(self, revoked_at=revoked_at)
