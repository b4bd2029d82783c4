"""Which earlier case a new referral re-refers: the RMS agency's person id decides, never names."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from divert_assessment.domain.rules import EarlierCase, previous_case_of_the_same_person

AT = datetime(2025, 3, 3, tzinfo=UTC)


def earlier(*, agency: str = "SPD", person: str = "P-9", closed: bool = True, days: int = 0) -> EarlierCase:
    return EarlierCase(uuid4(), agency, person, AT + timedelta(days=days), closed)


def test_the_closed_case_of_the_same_person_at_the_same_agency_is_linked() -> None:
    case = earlier()

    assert previous_case_of_the_same_person("SPD", "P-9", [case]) == case.referral_id


def test_the_latest_closed_case_is_linked() -> None:
    older, newer = earlier(days=0), earlier(days=30)

    assert previous_case_of_the_same_person("SPD", "P-9", [newer, older]) == newer.referral_id


def test_an_open_case_is_not_linked() -> None:
    assert previous_case_of_the_same_person("SPD", "P-9", [earlier(closed=False)]) is None


def test_the_same_person_id_at_another_agency_is_someone_else() -> None:
    assert previous_case_of_the_same_person("KCSO", "P-9", [earlier(agency="SPD")]) is None


def test_another_person_id_is_not_linked() -> None:
    assert previous_case_of_the_same_person("SPD", "P-10", [earlier(person="P-9")]) is None


def test_without_a_person_id_nothing_is_linked() -> None:
    assert previous_case_of_the_same_person("SPD", None, [earlier()]) is None
    assert previous_case_of_the_same_person("SPD", "", [earlier(person="")]) is None
