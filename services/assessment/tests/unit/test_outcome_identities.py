"""The outcome upload's people: by person key or by identity, exactly one way; an identity keyed
here is the same person as the key the extract gives for the referral with that identity."""

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from divert_assessment.domain.person_key import Identity, identity_given, key_given, one_way, person_key
from divert_assessment.entrypoints.evaluation import ComparisonPerson, OutcomeRecord

SECRET = b"a-program-secret-of-thirty-two-characters"
NOBODY: dict[str, Any] = {
    "rms_agency": None,
    "rms_person_id": None,
    "family_name": None,
    "given_name": None,
    "date_of_birth": None,
}
REFERRED_BY_RMS = Identity("SPD", "P-9", "Diaz", "Ana", date(1990, 1, 2))
REFERRED_BY_NAME = Identity("SPD", None, "O'Brien-Smith", "José", date(1990, 1, 2))


def given(**parts: Any) -> Identity | None:
    return identity_given(**(NOBODY | parts))


def test_an_rms_identity_is_the_person_the_referral_with_that_agency_and_id_is() -> None:
    identity = given(rms_agency=" spd ", rms_person_id="p-9")  # normalised as a referral's is

    assert key_given(SECRET, None, identity) == person_key(SECRET, REFERRED_BY_RMS)
    assert key_given(SECRET, None, given(rms_agency="KCSO", rms_person_id="P-9")) != person_key(SECRET, REFERRED_BY_RMS)


def test_names_and_date_of_birth_are_the_person_referred_without_an_rms_id() -> None:
    identity = given(family_name="OBRIEN SMITH", given_name="jose", date_of_birth=date(1990, 1, 2))

    assert key_given(SECRET, None, identity) == person_key(SECRET, REFERRED_BY_NAME)
    other_day = given(family_name="OBRIEN SMITH", given_name="jose", date_of_birth=date(1990, 1, 3))
    assert key_given(SECRET, None, other_day) != person_key(SECRET, REFERRED_BY_NAME)


def test_a_key_given_is_taken_as_it_is() -> None:
    key = person_key(SECRET, REFERRED_BY_RMS)

    assert key_given(SECRET, key, None) == key


def test_no_identity_is_none_and_then_a_key_is_needed() -> None:
    assert given() is None
    with pytest.raises(ValueError, match="give either"):
        key_given(SECRET, None, None)


def test_a_key_and_an_identity_together_are_refused() -> None:
    identity = given(rms_agency="SPD", rms_person_id="P-9")

    with pytest.raises(ValueError, match="give either"):
        key_given(SECRET, "a" * 64, identity)
    with pytest.raises(ValueError, match="give either"):
        one_way("a" * 64, identity)


@pytest.mark.parametrize(
    "parts",
    [
        {"rms_agency": "SPD"},
        {"rms_person_id": "P-9"},
        {"family_name": "Diaz", "given_name": "Ana"},  # no date of birth: too many namesakes
        {"family_name": "Diaz", "date_of_birth": date(1990, 1, 2)},
        {"rms_agency": "SPD", "rms_person_id": "P-9", "family_name": "Diaz"},
        {"rms_person_id": "P-9", "family_name": "Diaz", "given_name": "Ana", "date_of_birth": date(1990, 1, 2)},
    ],
    ids=["agency-only", "id-only", "no-birth-date", "no-given-name", "rms-and-a-name", "id-and-names"],
)
def test_part_of_an_identity_or_parts_of_both_are_refused(parts: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="give either"):
        given(**parts)


@pytest.mark.parametrize(
    "parts",
    [
        {"rms_agency": "SPD", "rms_person_id": "  "},
        {"family_name": "--", "given_name": "Ana", "date_of_birth": date(1990, 1, 2)},
    ],
    ids=["blank-id", "name-without-letters"],
)
def test_a_part_that_normalises_to_nothing_is_refused(parts: dict[str, Any]) -> None:
    # keyed, it would match people by the other parts alone
    with pytest.raises(ValueError, match="must each hold"):
        given(**parts)


def test_a_record_given_by_identity_and_by_key_count_as_one_person() -> None:
    event = {"date": "2025-03-01", "kind": "arrest", "felony": False}
    by_identity = OutcomeRecord.model_validate(event | {"rms_agency": "SPD", "rms_person_id": "P-9"})
    by_key = OutcomeRecord.model_validate(event | {"person_key": person_key(SECRET, REFERRED_BY_RMS)})

    assert by_identity.by_identity and not by_key.by_identity
    assert by_identity.key(SECRET) == by_key.key(SECRET)


@pytest.mark.parametrize(
    "who",
    [
        {},
        {"person_key": "a" * 64, "family_name": "Diaz", "given_name": "Ana", "date_of_birth": "1990-01-02"},
        {"person_key": "a" * 64, "rms_agency": "SPD", "rms_person_id": "P-9"},
    ],
    ids=["neither", "key-and-names", "key-and-rms"],
)
def test_a_comparison_person_given_neither_or_both_ways_is_refused_without_echoing_the_identity(
    who: dict[str, Any],
) -> None:
    with pytest.raises(ValidationError) as refused:
        ComparisonPerson.model_validate(who | {"index_date": "2025-01-01"})

    [error] = refused.value.errors(include_input=False)
    assert error["loc"] == () and "give either" in error["msg"]  # on the item, not a field of it
    assert "Diaz" not in error["msg"] and "P-9" not in error["msg"]
