"""The timeline's entries: one per event type, each showing only what its model whitelists."""

from datetime import UTC, datetime
from uuid import uuid4

from divert_assessment.domain import events
from divert_assessment.domain.case import Case
from divert_assessment.entrypoints.timeline import _ENTRIES, timeline
from divert_contracts.referrals import Subject
from divert_platform.event_store import RecordedEvent

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def stored(event: events.CaseEvent, metadata: dict[str, object]) -> RecordedEvent:
    return RecordedEvent(1, "case-x", 1, "e-1", event.name, event.model_dump(mode="json"), metadata, NOW)


def test_every_event_type_has_an_entry() -> None:
    assert _ENTRIES.keys() == Case.event_types().keys()


def test_the_opening_shows_no_one_s_identity_and_times_are_utc() -> None:
    opened = events.CaseOpened(
        referral_id=uuid4(),
        jurisdiction="king-county",
        pathway="arrest_diversion",
        referred_at=datetime(2026, 3, 1, 3, tzinfo=UTC),
        assessment_due_by=None,
        opened_at=datetime.fromisoformat("2026-03-01T04:00:00-08:00"),
        subject=Subject(given_name="Ana", family_name="Diaz", rms_person_id="P-9", phone="555-0100"),
        rms_agency="SPD",
    )

    [entry] = timeline([stored(opened, {"actor": "/divert/intake", "role": "service", "causation_id": "c-1"})])

    shown = entry.model_dump(mode="json")
    assert shown["event"] == "case_opened" and shown["at"] == "2026-03-01T12:00:00Z"
    assert entry.at == entry.recorded_at == NOW
    assert not {"subject", "rms_agency", "jurisdiction", "causation_id"} & shown.keys()
    assert "Diaz" not in str(shown)
