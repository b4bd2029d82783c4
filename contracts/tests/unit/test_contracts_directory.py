"""The services directory's events: registered, keyed by the referral, round-tripping the codec."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from pydantic import ValidationError

from divert_contracts import codec
from divert_contracts.directory import ServiceReferralMade, ServiceReferralStatusChanged
from divert_contracts.registry import EVENT_TYPES
from divert_contracts.topics import DIRECTORY

AT = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _made() -> ServiceReferralMade:
    return ServiceReferralMade(
        referral_id=uuid4(),
        service_referral_id=uuid4(),
        jurisdiction="king-county",
        service_id=uuid4(),
        organization_id=uuid4(),
        need="substance_use_treatment",
        part2=True,
        consent_id=uuid4(),
        made_at=AT,
    )


def test_both_events_are_registered_on_the_directory_topic() -> None:
    for model in (ServiceReferralMade, ServiceReferralStatusChanged):
        assert EVENT_TYPES[model.event_type] is model and model.topic == DIRECTORY.name
    assert ServiceReferralMade.event_type == "org.divert.directory.service_referral_made.v1"
    assert ServiceReferralStatusChanged.event_type == "org.divert.directory.service_referral_status_changed.v1"


def test_an_event_is_keyed_by_the_referral_and_round_trips() -> None:
    event = _made()
    message = codec.encode(
        event_id="e-1",
        source="/divert/directory",
        event_type=event.event_type,
        subject=event.cloudevent_subject,
        time=AT,
        key=event.partition_key,
        data=event.model_dump(mode="json"),
    )

    assert message.key == str(event.referral_id)
    assert codec.decode(message.headers.items(), str(message.key).encode(), message.value).event == event


def test_a_status_change_carries_codes_only() -> None:
    with pytest.raises(ValidationError):
        ServiceReferralStatusChanged(
            referral_id=uuid4(),
            service_referral_id=uuid4(),
            jurisdiction="demo",
            service_id=uuid4(),
            need="housing",
            part2=False,
            previous_status="sent",
            status="declined",
            reason="they were rude",
            changed_at=AT,
        )
    with pytest.raises(ValidationError):
        _made().model_validate({**_made().model_dump(), "note": "free text"})
