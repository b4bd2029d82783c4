"""Case facts merge events in any order: the same facts whatever order they came in."""

from datetime import UTC, datetime, timedelta
from itertools import permutations
from uuid import UUID

from divert_directory.domain.case_facts import CaseFacts, ConsentFact, NeedFact

T0 = datetime(2026, 3, 1, tzinfo=UTC)
CASE = UUID(int=1)


def facts() -> CaseFacts:
    return CaseFacts(CASE, "king-county", "reach-king-county")


def test_the_latest_assessment_wins_whatever_order_they_arrive_in() -> None:
    early = (T0, (NeedFact("food", 1, False),))
    late = (T0 + timedelta(days=1), (NeedFact("phone", 2, False), NeedFact("housing", 1, False)))
    for order in permutations([early, late, early]):
        case = facts()
        for completed_at, needs in order:
            case.note_assessment(completed_at, needs)
        assert case.assessed_at == late[0]
        assert [n.domain for n in case.needs] == ["housing", "phone"]  # most urgent first


def test_closure_and_reopening_are_ordered_by_when_they_were_recorded() -> None:
    steps = [
        ("close", T0 + timedelta(hours=1)),
        ("reopen", T0 + timedelta(hours=2)),
        ("close", T0 + timedelta(hours=3)),
    ]
    for order in permutations(steps):
        case = facts()
        for kind, recorded_at in order:
            if kind == "close":
                # backdated closure: its own time is before the reopening
                case.note_closure(T0, recorded_at)
            else:
                case.note_reopening(recorded_at)
        assert case.closed


def test_a_reopening_after_the_last_closure_leaves_the_case_open() -> None:
    case = facts()
    case.note_reopening(T0 + timedelta(hours=2))
    case.note_closure(T0, T0 + timedelta(hours=1))

    assert not case.closed


def test_a_revocation_heard_before_its_consent_still_revokes_it() -> None:
    revoked_first = ConsentFact(UUID(int=9), CASE).with_revocation(T0 + timedelta(hours=1))
    recorded = revoked_first.with_record(
        parties=("org",),
        purpose="service_referral",
        scope="full_case",
        part2=False,
        recorded_at=T0,
        expires_at=T0 + timedelta(days=30),
    )

    assert recorded.recorded and recorded.revoked_at == T0 + timedelta(hours=1)
    assert not recorded.in_force(T0 + timedelta(hours=2))


def test_a_consent_is_kept_as_first_recorded_and_the_earliest_revocation_counts() -> None:
    first = ConsentFact(UUID(int=9), CASE).with_record(
        parties=("org",),
        purpose="service_referral",
        scope="full_case",
        part2=True,
        recorded_at=T0,
        expires_at=T0 + timedelta(days=30),
    )
    again = first.with_record(
        parties=("x",), purpose="legal_advocacy", scope="contact_details", part2=False, recorded_at=T0, expires_at=T0
    )

    assert again == first
    revoked = first.with_revocation(T0 + timedelta(hours=2)).with_revocation(T0 + timedelta(hours=1))
    assert revoked.revoked_at == T0 + timedelta(hours=1)
    assert revoked.with_revocation(T0 + timedelta(hours=5)) == revoked


def test_the_earliest_opening_counts() -> None:
    case = facts()
    case.note_opening(T0 + timedelta(hours=1))
    case.note_opening(T0)
    case.note_opening(T0 + timedelta(hours=2))

    assert case.opened_at == T0
