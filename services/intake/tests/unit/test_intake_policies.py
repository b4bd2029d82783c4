"""Policy files: every shipped one loads, bad ones stop start-up, versions are chosen by date."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from divert_intake.domain.policy import (
    ExclusionRule,
    InvalidPolicy,
    JurisdictionPolicy,
    PolicyBook,
    RuleSources,
    load_policy_book,
)

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
    # On 2026-12-05 the versions of 2026-12-01 are in force, except demo's (it has one version);
    # from 2026-12-06 King County's and Santa Fe's with their approval gates.
    current = {p.id: p.version for p in book.all(datetime(2026, 12, 5, 20, tzinfo=UTC))}
    assert current == {
        "albany": "2026-12-01",
        "demo": "2026-01-01",
        "king-county": "2026-12-01",
        "santa-fe": "2026-12-01",
    }
    gated = {p.id: p.version for p in book.all(datetime(2026, 12, 6, 20, tzinfo=UTC))}
    assert gated == current | {"king-county": "2026-12-06", "santa-fe": "2026-12-06"}
    assert [p.version for p in book.all(datetime(2026, 11, 30, tzinfo=UTC))] == ["2026-01-01"] * 4


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
        (date(2026, 11, 30), "2026-01-01"),  # the day before the version that computes convictions
        (date(2026, 12, 1), "2026-12-01"),
        (date(2026, 12, 5), "2026-12-01"),  # the day before the version with an approval gate
        (date(2026, 12, 6), "2026-12-06"),
        (date(2030, 6, 1), "2026-12-06"),
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
    assert [p.version for p in BOOK.versions("king-county")] == ["2025-01-01", "2026-01-01", "2026-12-01", "2026-12-06"]
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


SOURCED_VERSIONS = ("2026-12-01", "2026-12-06")
NEW_VERSIONS = [p for j in BOOK.ids() for p in BOOK.versions(j) if p.version in SOURCED_VERSIONS]


def test_the_versions_of_december_are_new_files_beside_the_old_ones() -> None:
    assert sorted((p.id, p.version) for p in NEW_VERSIONS) == [
        ("albany", "2026-12-01"),
        ("king-county", "2026-12-01"),
        ("king-county", "2026-12-06"),
        ("santa-fe", "2026-12-01"),
        ("santa-fe", "2026-12-06"),
    ]
    for jurisdiction in ("albany", "king-county", "santa-fe"):
        older = BOOK.version(jurisdiction, "2026-01-01")
        assert older is not None and older.convictions is None and older.sources == RuleSources()
        assert all(rule.source is None for rule in (*older.offenses, *older.exclusions))


@pytest.mark.parametrize("policy", NEW_VERSIONS, ids=lambda p: f"{p.id}-{p.version}")
def test_every_rule_of_a_new_version_names_its_source(policy: JurisdictionPolicy) -> None:
    sourced = {
        **{f"offense {rule.category}": rule.source for rule in policy.offenses},
        **{f"exclusion {rule.code}": rule.source for rule in policy.exclusions},
        **{f"excluded {rule.category}": rule.source for rule in policy.excluded_offense_categories},
        "pathways": policy.sources.pathways,
        "assessment": policy.sources.assessment,
    }
    if policy.social_contact is not None:
        sourced["social contact"] = policy.social_contact.source
    if policy.convictions is not None:
        sourced["convictions"] = policy.convictions.source
    if policy.minimum_age is not None:
        sourced["minimum age"] = policy.sources.minimum_age
    if policy.requires_contact_driver or policy.eligible_by_contact_drivers:
        sourced["contact drivers"] = policy.sources.contact_drivers
    if policy.approval is not None:
        sourced["approval"] = policy.approval.source
    assert [rule for rule, source in sourced.items() if source is None] == []
    # A source is a document with an address, or a working assumption that says what it rests on.
    for rule, source in sourced.items():
        assert source is not None and (source.url or source.assumption or source.section), rule


def test_the_new_versions_say_what_the_programs_say() -> None:
    king, santa_fe, albany = (BOOK.version(j, "2026-12-01") for j in ("king-county", "santa-fe", "albany"))
    assert king is not None and king.convictions is not None
    assert (king.convictions.within_years, king.convictions.any_time, king.convictions.within) == (
        10,
        ("murder", "arson", "robbery", "rape", "assault_with_weapon"),
        ("burglary", "domestic_violence", "assault"),
    )
    assert not king.reads_fact("disqualifying_convictions")
    assert santa_fe is not None and santa_fe.pathways == ("arrest_diversion", "social_contact")
    opioids = ("heroin", "fentanyl", "opioid", "prescription_opioid_pills")
    drug_rules = [rule for rule in santa_fe.offenses if rule.max_drug_grams is not None]
    assert [(r.category, r.drug_types, r.max_drug_grams) for r in drug_rules] == [
        ("drug_possession", opioids, 6.0),
        ("drug_delivery_subsistence", opioids, 6.0),
    ]
    assert albany is not None and albany.eligible_by_contact_drivers == ("drug_use", "mental_illness", "poverty")
    excluded = {rule.category: rule.source for rule in albany.excluded_offense_categories}
    assert set(excluded) == {"violent_felony", "sex_offense", "exploitation_of_minors"}
    assert excluded["violent_felony"] is not None and excluded["violent_felony"].assumption


@pytest.mark.parametrize(
    ("jurisdiction", "approver"),
    [
        # "Only designated individuals within Law Enforcement or the ... Project Management Team"
        ("king-county", "program_manager"),
        # "The prosecuting attorney has final authority on client eligibility"
        ("santa-fe", "prosecutor"),
    ],
)
def test_the_versions_of_december_6_add_the_programs_approvers_and_change_no_rule(
    jurisdiction: str, approver: str
) -> None:
    before, gated = BOOK.version(jurisdiction, "2026-12-01"), BOOK.version(jurisdiction, "2026-12-06")
    assert before is not None and before.approval is None
    assert gated is not None and gated.approval is not None
    assert (gated.approval.by, gated.approval.within, gated.approval.on_timeout) == (
        approver,
        timedelta(days=2),
        "accept",
    )
    # Who decides is the program's word; how long and what a silence means are Divert's, and say so.
    source = gated.approval.source
    assert source is not None and source.url and source.assumption and source.note
    unchanged = {"version", "effective_date", "approval"}
    assert gated.model_dump(exclude=unchanged) == before.model_dump(exclude=unchanged)
    assert BOOK.version("albany", "2026-12-06") is None  # Albany's sources name no approver


SOURCE = {"document": "A program page", "url": "https://example.org/rules"}


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"sources": {"pathways": {"document": "x", "url": "http://example.org"}}}, "should match pattern"),
        ({"sources": {"pathways": {"document": "x", "assumption": True}}}, "an assumption needs a note"),
        ({"sources": {"pathways": {"document": ""}}}, "at least 1 character"),
        ({"sources": {"approval": SOURCE}}, "Extra inputs are not permitted"),
        ({"eligible_by_contact_drivers": ("drug_use", "drug_use")}, "driver twice"),
        ({"eligible_by_contact_drivers": ("boredom",)}, "Input should be"),
        ({"excluded_offense_categories": [{"category": "violent_felony"}]}, "needs eligible_by_contact_drivers"),
        (
            {"eligible_by_contact_drivers": ("poverty",), "excluded_offense_categories": [{"category": "trespass"}]},
            "both eligible and excluded",
        ),
        ({"convictions": {"within_years": 10, "any_time": ["murder"], "within": ["murder"]}}, "category twice"),
        ({"convictions": {"within_years": 10}}, "lists no category"),
        ({"convictions": {"within_years": 0, "any_time": ["murder"]}}, "greater than 0"),
        (
            {"offenses": [{"category": "drug_possession", "drug_types": ["heroin", "heroin"]}]},
            "drug type twice",
        ),
        (
            {
                "offenses": [
                    {
                        "category": "drug_possession",
                        "drug_types": ["heroin"],
                        "max_drug_grams": 3,
                        "drug_types_without_limit": ["prescription_opioid_pills"],
                    }
                ]
            },
            "outside drug_types",
        ),
    ],
)
def test_the_new_fields_are_checked(changes: dict[str, object], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        JurisdictionPolicy.model_validate(policy(**changes))


def test_a_version_computing_convictions_may_not_also_read_the_officers_list() -> None:
    legacy = BOOK.version("king-county", "2026-01-01")
    assert legacy is not None
    rules = {"within_years": 10, "any_time": ["murder"]}
    with pytest.raises(ValidationError, match="may not read disqualifying_convictions"):
        JurisdictionPolicy.model_validate(legacy.model_dump() | {"convictions": rules})
    computed = BOOK.version("king-county", "2026-12-01")
    assert computed is not None
    clash = {"code": "disqualifying_conviction", "fact": "amenable", "excluded_if": False, "message": "No."}
    with pytest.raises(ValidationError, match="given by \\[convictions\\]"):
        JurisdictionPolicy.model_validate(computed.model_dump() | {"exclusions": [clash]})
    # prior convictions are computed, never an "any entry excludes" list
    with pytest.raises(ValidationError, match="cannot be used as an exclusion"):
        ExclusionRule(code="x", fact="prior_convictions", excluded_if="non_empty", message="no")
