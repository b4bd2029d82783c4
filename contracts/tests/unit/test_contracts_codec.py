"""The CloudEvents Kafka codec: binary mode out, typed events back, clear errors for the rest."""

import json
from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

import pytest

from divert_contracts import codec
from divert_contracts.cases import CaseAssessmentCompleted, Need
from divert_contracts.referrals import ReferralWithdrawn
from divert_contracts.schemas import main as contract_documents


def _completed() -> CaseAssessmentCompleted:
    return CaseAssessmentCompleted(
        referral_id=uuid4(),
        jurisdiction="demo",
        completed_at=datetime(2026, 12, 1, tzinfo=UTC),
        assessment_due_by=None,
        on_time=True,
        needs=(Need(domain="housing", priority=1, part2=False),),
    )


def _encode(event: CaseAssessmentCompleted, event_id: str = "e-1", *, as_text: bool = False):
    data = event.model_dump(mode="json")
    return codec.encode(
        event_id=event_id,
        source="/divert/assessment",
        event_type=event.event_type,
        subject=event.cloudevent_subject,
        time=datetime(2026, 12, 1, 10, tzinfo=UTC),
        key=event.partition_key,
        data=json.dumps(data) if as_text else data,
    )


def test_round_trip_keeps_attributes_and_event() -> None:
    event = _completed()
    message = _encode(event)
    assert message.headers["ce_type"] == b"org.divert.case.assessment_completed.v1"
    assert message.headers["content-type"] == b"application/json"
    assert message.headers["ce_time"] == b"2026-12-01T10:00:00Z"
    assert message.key == str(event.referral_id)
    decoded = codec.decode(message.headers.items(), str(message.key).encode(), message.value)
    assert decoded.event == event
    assert (decoded.id, decoded.source, decoded.subject) == (
        "e-1",
        "/divert/assessment",
        f"referrals/{event.referral_id}",
    )


def test_json_text_is_sent_as_it_is_and_decodes_to_the_same_event() -> None:
    """The relay passes the outbox's stored JSON text instead of decoding and re-encoding it."""
    event = _completed()
    as_text, as_object = _encode(event, as_text=True), _encode(event)
    assert as_text.value == json.dumps(event.model_dump(mode="json")).encode()
    assert as_text.headers == as_object.headers
    assert codec.decode(as_text.headers.items(), None, as_text.value).event == event


@pytest.mark.parametrize(
    ("headers", "value", "reason"),
    [
        ({}, b"{}", "not a CloudEvent"),
        (
            {"ce_specversion": b"1.0", "ce_type": b"org.divert.nope.v1", "ce_id": b"1", "ce_source": b"/x"},
            b"{}",
            "unknown event type",
        ),
        (
            {
                "ce_specversion": b"1.0",
                "ce_type": b"org.divert.case.opened.v1",
                "ce_id": b"1",
                "ce_source": b"/x",
                "content-type": b"application/json",
            },
            b'{"referral_id": "nope"}',
            "violates its schema",
        ),
        (
            {
                "ce_specversion": b"1.0",
                "ce_type": b"org.divert.case.opened.v1",
                "ce_id": b"1",
                "ce_source": b"/x",
                "content-type": b"application/json",
            },
            b"{truncated",
            "not a JSON object",
        ),
    ],
)
def test_undecodable_records_say_why(headers: dict[str, bytes], value: bytes, reason: str) -> None:
    with pytest.raises(codec.UndecodableMessage, match=reason):
        codec.decode(headers.items(), b"k", value)


def test_checked_in_schemas_and_asyncapi_match_the_models() -> None:
    assert contract_documents(["--check"]) == 0, "run `make contracts` and commit the result"


def test_a_time_without_an_offset_is_read_as_utc() -> None:
    referral_id = uuid4()
    data = {
        "referral_id": str(referral_id),
        "jurisdiction": "demo",
        "withdrawn_at": "2026-11-02T14:05:00",
        "reason": "x",
    }
    message = codec.encode(
        event_id=str(uuid4()),
        source="/elsewhere",
        event_type=ReferralWithdrawn.event_type,
        subject=f"referrals/{referral_id}",
        time=datetime.now(UTC),
        key=str(referral_id),
        data=data,
    )
    decoded = codec.decode(list(message.headers.items()), str(message.key).encode(), message.value)
    assert isinstance(decoded.event, ReferralWithdrawn)
    assert decoded.event.withdrawn_at == datetime(2026, 11, 2, 14, 5, tzinfo=UTC)
    pacific = datetime(2026, 11, 2, 6, 5, tzinfo=timezone(timedelta(hours=-8)))
    kept = ReferralWithdrawn(referral_id=referral_id, jurisdiction="demo", withdrawn_at=pacific, reason="x")
    assert kept.withdrawn_at.utcoffset() == timedelta(hours=-8)  # an offset given is kept as given
