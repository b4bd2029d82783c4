"""Assessment's own settings: the case agencies and the enforcement parties, from JSON in the environment."""

import pytest
from pydantic import ValidationError

from divert_assessment.config import DEFAULT_ENFORCEMENT_PARTIES, AssessmentSettings
from divert_platform.settings import DEFAULT_CASE_AGENCIES


def test_the_shipped_jurisdictions_have_their_case_agencies_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIVERT_CASE_AGENCIES", raising=False)
    monkeypatch.delenv("DIVERT_ENFORCEMENT_PARTIES", raising=False)

    settings = AssessmentSettings()

    assert settings.case_agencies == DEFAULT_CASE_AGENCIES
    assert set(settings.case_agencies) == {"king-county", "santa-fe", "albany", "demo"}
    assert {"police", "prosecutor", "court", "spd", "king-county-prosecutor"} <= set(settings.enforcement_parties)
    assert settings.enforcement_parties == DEFAULT_ENFORCEMENT_PARTIES


def test_both_are_read_as_json_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIVERT_CASE_AGENCIES", '{"king-county": "reach", "pierce": "pierce-lead"}')
    monkeypatch.setenv("DIVERT_ENFORCEMENT_PARTIES", '["police", "tacoma-pd"]')

    settings = AssessmentSettings()

    assert settings.case_agencies == {"king-county": "reach", "pierce": "pierce-lead"}
    assert settings.enforcement_parties == ["police", "tacoma-pd"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DIVERT_CASE_AGENCIES", '{"king-county": ""}'),
        ("DIVERT_CASE_AGENCIES", '{"king-county": "' + "x" * 65 + '"}'),
        ("DIVERT_ENFORCEMENT_PARTIES", '["police", " "]'),
    ],
)
def test_ids_the_database_or_the_gate_could_not_use_are_refused_at_start_up(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(ValidationError):
        AssessmentSettings()
