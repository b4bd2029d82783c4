"""The service referral's state machine: every valid step, and every invalid one refused."""

from datetime import UTC, datetime, timedelta
from itertools import product
from uuid import uuid4

import pytest

from divert_contracts.directory import ServiceReferralStatus
from divert_directory.domain import events
from divert_directory.domain.commands import MakeServiceReferral
from divert_directory.domain.errors import InvalidStatusChange, ReasonMisplaced
from divert_directory.domain.service_referral import NEXT_STATUSES, ServiceReferral

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
STATUSES: tuple[ServiceReferralStatus, ...] = ("sent", "accepted", "declined", "completed", "no_show")
VALID = {
    ("sent", "accepted"),
    ("sent", "declined"),
    ("accepted", "completed"),
    ("accepted", "no_show"),
}
PATH_TO: dict[ServiceReferralStatus, list[ServiceReferralStatus]] = {
    "sent": [],
    "accepted": ["accepted"],
    "declined": ["declined"],
    "completed": ["accepted", "completed"],
    "no_show": ["accepted", "no_show"],
}


def made() -> ServiceReferral:
    referral = ServiceReferral(id=uuid4())
    referral.make(
        MakeServiceReferral(
            service_referral_id=referral.id,
            referral_id=uuid4(),
            jurisdiction="king-county",
            service_id=uuid4(),
            organization_id=uuid4(),
            need="housing",
            part2=False,
            consent_id=uuid4(),
            at=NOW,
        )
    )
    return referral


def at(status: ServiceReferralStatus) -> ServiceReferral:
    referral = made()
    for step in PATH_TO[status]:
        reason = "other" if step == "declined" else None
        referral.change_status(step, reason, NOW)
    assert referral.status == status
    return referral


def test_a_referral_is_made_sent_with_its_history() -> None:
    referral = made()

    assert referral.status == "sent"
    assert [(change.status, change.at) for change in referral.history] == [("sent", NOW)]
    [event] = referral.pending
    assert isinstance(event, events.ServiceReferralMade) and event.made_at == NOW


def test_the_transition_table_is_the_documented_one() -> None:
    assert {(a, b) for a, nexts in NEXT_STATUSES.items() for b in nexts} == VALID


@pytest.mark.parametrize(("current", "wanted"), sorted(VALID))
def test_each_valid_transition_is_recorded(current: ServiceReferralStatus, wanted: ServiceReferralStatus) -> None:
    referral = at(current)
    reason = "no_capacity" if wanted == "declined" else None
    later = NOW + timedelta(hours=1)

    referral.change_status(wanted, reason, later)

    assert referral.status == wanted
    assert (referral.history[-1].status, referral.history[-1].reason, referral.history[-1].at) == (
        wanted,
        reason,
        later,
    )
    event = referral.pending[-1]
    assert isinstance(event, events.ServiceReferralStatusChanged)
    assert (event.previous_status, event.status, event.reason) == (current, wanted, reason)


@pytest.mark.parametrize(
    ("current", "wanted"), sorted(pair for pair in product(STATUSES, STATUSES) if pair not in VALID)
)
def test_each_invalid_transition_is_refused_and_records_nothing(
    current: ServiceReferralStatus, wanted: ServiceReferralStatus
) -> None:
    referral = at(current)
    before = len(referral.pending)

    with pytest.raises(InvalidStatusChange) as refused:
        referral.change_status(wanted, "other" if wanted == "declined" else None, NOW)

    assert refused.value.current == current and refused.value.allowed == NEXT_STATUSES[current]
    assert referral.status == current and len(referral.pending) == before


def test_a_referral_is_made_only_once() -> None:
    referral = made()

    with pytest.raises(InvalidStatusChange):
        referral.make(MakeServiceReferral(referral.id, uuid4(), "demo", uuid4(), uuid4(), "food", False, uuid4(), NOW))


def test_a_status_cannot_change_before_the_referral_is_made() -> None:
    with pytest.raises(InvalidStatusChange):
        ServiceReferral(id=uuid4()).change_status("accepted", None, NOW)


def test_a_decline_needs_a_reason() -> None:
    referral = made()

    with pytest.raises(ReasonMisplaced):
        referral.change_status("declined", None, NOW)
    assert referral.status == "sent"


@pytest.mark.parametrize("status", ["accepted", "completed", "no_show"])
def test_only_a_decline_has_a_reason(status: ServiceReferralStatus) -> None:
    referral = at("accepted") if status != "accepted" else made()

    with pytest.raises(ReasonMisplaced):
        referral.change_status(status, "other", NOW)


def test_a_referral_rebuilt_from_its_events_is_the_same() -> None:
    referral = at("completed")

    rebuilt = ServiceReferral.from_events(referral.id, list(referral.pending))

    assert rebuilt.version == 3 and rebuilt.pending == []
    assert (rebuilt.status, rebuilt.history, rebuilt.need, rebuilt.service_id) == (
        "completed",
        referral.history,
        "housing",
        referral.service_id,
    )
