"""The registry of organisations: what a valid file is, what the loader refuses, and what the
registry shipped with assessment holds."""

import csv
from importlib import resources
from pathlib import Path

import pytest

from divert_assessment.bootstrap import bootstrap
from divert_assessment.config import AssessmentSettings
from divert_assessment.domain.organisations import (
    ENFORCEMENT_TYPES,
    MAX_ORGANISATIONS,
    RECIPIENT_TYPES,
    InvalidRegistry,
    load_organisations,
)

VALID = """
[[organisations]]
id = "evergreen-recovery"
name = "Evergreen Recovery Services"
type = "substance_use_treatment"

[[organisations]]
id = "tacoma-police"
name = "Tacoma Police Department"
type = "police"
"""


def written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "organisations.toml"
    path.write_text(text, encoding="utf-8")
    return path


def entry(id_: str = "org-a", name: str = "Org A", type_: str = "housing", extra: str = "") -> str:
    return f'[[organisations]]\nid = "{id_}"\nname = "{name}"\ntype = "{type_}"\n{extra}\n'


def test_a_program_file_is_loaded_with_each_organisation_and_its_type(tmp_path: Path) -> None:
    registry = load_organisations(written(tmp_path, VALID))

    recovery, police = registry.find("evergreen-recovery"), registry.find("tacoma-police")
    assert recovery is not None and (recovery.type, recovery.is_enforcement) == ("substance_use_treatment", False)
    assert police is not None and (police.type, police.is_enforcement) == ("police", True)
    assert [org.id for org in registry.all()] == ["evergreen-recovery", "tacoma-police"]
    assert registry.find("Evergreen-Recovery") is None and registry.find("evergreen") is None


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        (entry() + entry(name="Org A again"), "'org-a' is registered twice"),
        (entry(type_="sheriff"), "organisations.0.type"),
        (entry(type_=""), "organisations.0.type"),
        (entry(id_="Org-A"), "organisations.0.id"),
        (entry(id_=""), "organisations.0.id"),
        (entry(id_="a" * 65), "organisations.0.id"),
        (entry(id_="org a"), "organisations.0.id"),
        (entry(name=""), "organisations.0.name"),
        (entry(name="   "), "name cannot be blank"),
        (entry(name="x" * 201), "organisations.0.name"),
        (entry(name="Org\\nA"), "organisations.0.name"),
        (entry(extra='notes = "free text"'), "organisations.0.notes"),
        ("[[organisations]]\nid = 'org-a'\ntype = 'housing'\n", "organisations.0.name"),
        ("organisations = []\n", "at least 1 item"),
        ("", "Field required"),
        (entry() + "[[organisations]\n", "Expected ']]'"),
        ("".join(entry(id_=f"org-{n}") for n in range(MAX_ORGANISATIONS + 1)), f"at most {MAX_ORGANISATIONS} items"),
    ],
)
def test_a_file_that_breaks_a_rule_is_refused_naming_the_file(tmp_path: Path, text: str, complaint: str) -> None:
    with pytest.raises(InvalidRegistry) as refused:
        load_organisations(written(tmp_path, text))

    assert "organisations.toml" in str(refused.value) and complaint in str(refused.value)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidRegistry, match=r"nowhere\.toml"):
        load_organisations(tmp_path / "nowhere.toml")


def test_assessment_does_not_start_on_an_invalid_registry(tmp_path: Path) -> None:
    settings = AssessmentSettings(
        database_url="sqlite+aiosqlite://", organisations_file=written(tmp_path, entry(type_="sheriff"))
    )

    with pytest.raises(InvalidRegistry):
        bootstrap(settings)


def test_assessment_uses_the_file_its_settings_name(tmp_path: Path) -> None:
    settings = AssessmentSettings(database_url="sqlite+aiosqlite://", organisations_file=written(tmp_path, VALID))

    assert [org.id for org in bootstrap(settings).organisations.all()] == ["evergreen-recovery", "tacoma-police"]


def test_the_types_are_recipients_or_enforcement_never_both() -> None:
    assert not set(RECIPIENT_TYPES) & set(ENFORCEMENT_TYPES)
    assert set(ENFORCEMENT_TYPES) == {"police", "prosecution", "court", "supervision", "jail"}
    assert {"case_agency", "health_care", "substance_use_treatment", "mental_health", "legal_aid"} <= set(
        RECIPIENT_TYPES
    )


def test_the_shipped_registry_refuses_the_enforcement_agencies_of_the_shipped_jurisdictions() -> None:
    registry = load_organisations()

    for party in ("seattle-police", "kcpao", "superior-court", "king-county-prosecuting-attorney", "spd"):
        organisation = registry.find(party)
        assert organisation is not None and organisation.is_enforcement, party
    for party in ("demo-case-agency", "demo-health-clinic", "reach-king-county"):
        organisation = registry.find(party)
        assert organisation is not None and not organisation.is_enforcement, party


def test_every_provider_of_the_directorys_seed_catalogue_may_be_named_in_a_consent() -> None:
    # The directory refers a person only under a consent naming the service's HSDS organization
    # id, and a consent names only registered organisations: a provider left out here could never
    # be referred to.
    seed = resources.files("divert_directory") / "seed" / "organizations.csv"
    providers = list(csv.DictReader(seed.read_text("utf-8").splitlines()))
    registry = load_organisations()

    assert providers
    for provider in providers:
        organisation = registry.find(provider["id"])
        assert organisation is not None, provider["name"]
        assert not organisation.is_enforcement and organisation.name == provider["name"]
