"""Policy files: every shipped one loads, bad ones stop start-up, versions are chosen by date."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from divert_intake.domain.policy import ExclusionRule, InvalidPolicy, JurisdictionPolicy, PolicyBook, load_policy_book

SHIPPED = Path(__file__).parents[2] / "src" / "divert_intake" / "policies"
MINIMAL = """
id = "{id}"
version = "{version}"
name = "Test"
time_zone = "{zone}"
effective_date = {effective}
assessment_window = "P30D"
due_at_end_of_local_day = true
lapse_action = "warrant_request"
pathways = ["arrest_diversion"]
offenses = [{{ category = "trespass" }}]
exclusions = [{{ code = "x", fact = "{fact}", excluded_if = true, message = "Excluded." }}]
"""


def write(folder: Path, name: str, **overrides: str) -> None:
    values = {"id": "test", "version": "1", "zone": "America/Denver", "effective": "2026-01-01", "fact": "amenable"}
    (folder / name).write_text(MINIMAL.format(**(values | overrides)), encoding="utf-8")


def test_every_shipped_file_loads() -> None:
    book = load_policy_book()
    assert book.ids() == ["albany", "demo", "king-county", "santa-fe"]
    assert len([f for f in SHIPPED.iterdir() if f.suffix == ".toml"]) == sum(len(book.versions(j)) for j in book.ids())
    assert [p.version for p in book.all(datetime(2026, 12, 6, tzinfo=UTC))] == ["2026-01-01"] * 4


def test_a_minimal_file_loads(tmp_path: Path) -> None:
    write(tmp_path, "test.toml")
    assert load_policy_book(tmp_path).ids() == ["test"]


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"fact": "favourite_colour"}, "unknown screening fact"),
        ({"zone": "Mars/Olympus_Mons"}, "unknown time zone"),
        ({"fact": "disqualifying_convictions"}, 'must be "non_empty"'),
        ({"fact": "prior_involvement_documented_on"}, "cannot be used as an exclusion"),
    ],
)
def test_a_bad_file_is_refused_by_name(tmp_path: Path, overrides: dict[str, str], complaint: str) -> None:
    write(tmp_path, "broken.toml", **overrides)
    with pytest.raises(InvalidPolicy, match=rf"(?s)broken\.toml.*{complaint}"):
        load_policy_book(tmp_path)


def test_a_duplicate_id_and_version_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.toml")
    write(tmp_path, "b.toml", effective="2027-01-01")
    with pytest.raises(InvalidPolicy, match=r"b\.toml repeats test version 1 from a\.toml"):
        load_policy_book(tmp_path)


def test_two_versions_taking_effect_the_same_day_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.toml")
    write(tmp_path, "b.toml", version="2")
    with pytest.raises(InvalidPolicy, match="same date"):
        load_policy_book(tmp_path)


def test_versions_may_not_move_the_jurisdiction_to_another_zone(tmp_path: Path) -> None:
    write(tmp_path, "a.toml")
    write(tmp_path, "b.toml", version="2", effective="2027-01-01", zone="America/Chicago")
    with pytest.raises(InvalidPolicy, match="time zone"):
        load_policy_book(tmp_path)


def test_malformed_toml_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "garbled.toml").write_text("id = ", encoding="utf-8")
    with pytest.raises(InvalidPolicy, match=r"garbled\.toml"):
        load_policy_book(tmp_path)


def policy(**changes: object) -> dict[str, object]:
    base = load_policy_book().latest("king-county")
    assert base is not None
    return base.model_dump() | changes


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"social_contact": None}, r"\[social_contact\] section is required"),
        ({"pathways": ("arrest_diversion",)}, r"\[social_contact\] section is required"),
        ({"pathways": ("arrest_diversion", "arrest_diversion", "social_contact")}, "twice"),
        ({"assessment_window": "P1DT12H"}, "whole days"),
        ({"assessment_window": "PT0S"}, "positive"),
        ({"extra_rule": True}, "Extra inputs are not permitted"),
        ({"minimum_age": 0}, "greater than 0"),
    ],
)
def test_cross_field_rules_are_checked(changes: dict[str, object], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        JurisdictionPolicy.model_validate(policy(**changes))


def test_an_exclusion_cannot_reuse_a_built_in_code_or_a_foreign_pathway() -> None:
    base = policy()
    clash = {"code": "under_minimum_age", "fact": "amenable", "excluded_if": False, "message": "No."}
    with pytest.raises(ValidationError, match="reserved"):
        JurisdictionPolicy.model_validate(base | {"exclusions": [*base["exclusions"], clash]})
    stray = clash | {"code": "stray", "pathways": ["community"]}
    with pytest.raises(ValidationError, match="does not accept"):
        JurisdictionPolicy.model_validate(base | {"exclusions": [*base["exclusions"], stray]})


def test_a_policy_rule_must_name_a_real_screening_fact() -> None:
    with pytest.raises(ValidationError, match="unknown screening fact"):
        ExclusionRule(code="x", fact="favourite_colour", excluded_if=True, message="no")


BOOK = load_policy_book()


@pytest.mark.parametrize(
    ("on", "version"),
    [
        (date(2024, 12, 31), None),  # before the first version: no rules to judge by
        (date(2025, 1, 1), "2025-01-01"),
        (date(2025, 12, 31), "2025-01-01"),  # the day before the newer version
        (date(2026, 1, 1), "2026-01-01"),
        (date(2030, 6, 1), "2026-01-01"),
    ],
)
def test_effective_picks_the_version_in_force(on: date, version: str | None) -> None:
    found = BOOK.effective("king-county", on)
    assert (found.version if found else None) == version


def test_effective_at_reads_the_moment_in_the_jurisdictions_zone() -> None:
    # 05:00 UTC on New Year's Day is still New Year's Eve in Seattle.
    found = BOOK.effective_at("king-county", datetime(2026, 1, 1, 5, tzinfo=UTC))
    assert found is not None and found.version == "2025-01-01"


def test_lookups_of_the_unknown_are_none_or_empty() -> None:
    assert BOOK.effective("atlantis", date(2026, 1, 1)) is None
    assert BOOK.effective_at("atlantis", datetime(2026, 1, 1, tzinfo=UTC)) is None
    assert BOOK.latest("atlantis") is None and BOOK.get("atlantis") is None
    assert BOOK.versions("atlantis") == []
    assert BOOK.version("king-county", "1999") is None


def test_latest_all_and_versions() -> None:
    assert [p.version for p in BOOK.versions("king-county")] == ["2025-01-01", "2026-01-01"]
    assert BOOK.get("king-county") is BOOK.latest("king-county") is BOOK.versions("king-county")[-1]
    assert BOOK.version("king-county", "2025-01-01") is BOOK.versions("king-county")[0]
    assert [p.id for p in BOOK.all(datetime(2026, 12, 6, tzinfo=UTC))] == BOOK.ids()


def test_a_version_dated_in_the_future_is_upcoming_until_its_local_date_arrives(tmp_path: Path) -> None:
    write(tmp_path, "now.toml", version="now", effective="2026-01-01")
    write(tmp_path, "next.toml", version="next", effective="2027-01-01")
    book = load_policy_book(tmp_path)
    new_years_eve = datetime(2027, 1, 1, 6, 59, tzinfo=UTC)  # still 2026-12-31 in Denver (UTC-7)
    new_year = datetime(2027, 1, 1, 7, 0, tzinfo=UTC)

    current = book.current("test", new_years_eve)
    assert current is not None and current.version == "now"
    assert [p.version for p in book.upcoming("test", new_years_eve)] == ["next"]
    assert [p.version for p in book.all(new_years_eve)] == ["now"]
    latest = book.latest("test")
    assert latest is not None and latest.version == "next"  # newest, not yet in force
    in_force = book.current("test", new_year)
    assert in_force is not None and in_force.version == "next"
    assert book.upcoming("test", new_year) == []
    # a referral is decided by the version in force at its own time, whenever it is submitted
    assert (decided := book.effective_at("test", new_year)) is not None and decided.version == "next"


def test_a_jurisdiction_not_yet_in_force_shows_its_first_version_to_come(tmp_path: Path) -> None:
    write(tmp_path, "first.toml", version="first", effective="2027-03-01")
    write(tmp_path, "second.toml", version="second", effective="2027-06-01")
    book = load_policy_book(tmp_path)
    now = datetime(2026, 12, 6, tzinfo=UTC)

    first = book.current("test", now)
    assert first is not None and first.version == "first"
    assert [p.version for p in book.upcoming("test", now)] == ["first", "second"]
    assert book.effective_at("test", now) is None  # nothing decides a referral made today
    assert book.current("atlantis", now) is None and book.upcoming("atlantis", now) == []


def test_a_book_built_by_hand_refuses_duplicates() -> None:
    kc = BOOK.latest("king-county")
    assert kc is not None
    with pytest.raises(ValueError, match="same version"):
        PolicyBook([kc, kc])
