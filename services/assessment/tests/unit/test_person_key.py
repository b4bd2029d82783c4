"""The evaluation extract's person key: stable across one person's referrals, secret-bound, normalised."""

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from divert_assessment.domain.person_key import Identity, identity_text, normalised_name, person_key

SECRET = b"a-program-secret-of-thirty-two-characters"


def identity(**overrides: object) -> Identity:
    fields: dict[str, object] = {
        "rms_agency": "SPD",
        "rms_person_id": "P-9",
        "family_name": "Diaz",
        "given_name": "Ana",
        "date_of_birth": date(1990, 1, 2),
    }
    return Identity(**(fields | overrides))  # type: ignore[arg-type]


def test_the_key_is_64_hex_digits() -> None:
    key = person_key(SECRET, identity())
    assert len(key) == 64 and set(key) <= set("0123456789abcdef")


def test_a_re_referral_by_the_same_agency_and_person_id_gets_the_same_key_whatever_the_name_says() -> None:
    first = identity()
    again = identity(family_name="Díaz-Lopez", given_name="Anita", date_of_birth=None, rms_person_id=" p-9 ")

    assert person_key(SECRET, first) == person_key(SECRET, again)


def test_without_a_person_id_the_names_and_date_of_birth_decide_normalised() -> None:
    first = identity(rms_person_id=None, family_name="O'Brien-Smith", given_name="José")
    again = identity(rms_person_id="", rms_agency="KCSO", family_name="obrien smith", given_name="JOSE")

    assert person_key(SECRET, first) == person_key(SECRET, again)  # another agency too: names do not say which
    assert person_key(SECRET, first) != person_key(SECRET, identity(rms_person_id=None, family_name="O'Brien"))
    assert person_key(SECRET, first) != person_key(
        SECRET, identity(rms_person_id=None, family_name="O'Brien-Smith", given_name="José", date_of_birth=None)
    )


def test_another_agency_or_person_id_is_another_person() -> None:
    assert person_key(SECRET, identity()) != person_key(SECRET, identity(rms_agency="KCSO"))
    assert person_key(SECRET, identity()) != person_key(SECRET, identity(rms_person_id="P-10"))


def test_the_key_depends_on_the_secret() -> None:
    assert person_key(SECRET, identity()) != person_key(SECRET + b"!", identity())


def test_an_id_based_and_a_name_based_identity_never_meet() -> None:
    # a person id that happens to read like a name is still kept apart by the prefix
    by_id = identity(rms_agency="diaz", rms_person_id="ana")
    by_name = identity(rms_person_id=None, family_name="diaz", given_name="ana", date_of_birth=None)
    assert identity_text(by_id) != identity_text(by_name)


def test_names_fold_accents_case_and_punctuation() -> None:
    assert normalised_name("  Zoë  d'Arc-Ñúñez ") == "zoedarcnunez"
    assert normalised_name("\uff21\uff2e\uff21") == "ana"  # full-width letters


@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40))
def test_the_key_of_a_name_ignores_its_case(family: str, given_name: str) -> None:
    upper = identity(rms_person_id=None, family_name=family.upper(), given_name=given_name.upper())
    lower = identity(rms_person_id=None, family_name=family.lower(), given_name=given_name.lower())
    # casefold of upper and lower agree except for a few letters whose case mapping is not symmetric
    if normalised_name(family.upper()) == normalised_name(family.lower()) and normalised_name(
        given_name.upper()
    ) == normalised_name(given_name.lower()):
        assert person_key(SECRET, upper) == person_key(SECRET, lower)
