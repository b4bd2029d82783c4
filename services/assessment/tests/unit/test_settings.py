"""Assessment's own settings: the case agencies (JSON) and the organisations file, from the environment."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from divert_assessment.config import AssessmentSettings
from divert_platform.settings import DEFAULT_CASE_AGENCIES


def test_the_shipped_jurisdictions_have_their_case_agencies_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIVERT_CASE_AGENCIES", raising=False)
    monkeypatch.delenv("DIVERT_ORGANISATIONS_FILE", raising=False)

    settings = AssessmentSettings()

    assert settings.case_agencies == DEFAULT_CASE_AGENCIES
    assert set(settings.case_agencies) == {"king-county", "santa-fe", "albany", "demo"}
    assert settings.organisations_file is None  # the registry shipped with assessment


def test_both_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIVERT_CASE_AGENCIES", '{"king-county": "reach", "pierce": "pierce-lead"}')
    monkeypatch.setenv("DIVERT_ORGANISATIONS_FILE", "/etc/divert/organisations.toml")

    settings = AssessmentSettings()

    assert settings.case_agencies == {"king-county": "reach", "pierce": "pierce-lead"}
    assert settings.organisations_file == Path("/etc/divert/organisations.toml")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DIVERT_CASE_AGENCIES", '{"king-county": ""}'),
        ("DIVERT_CASE_AGENCIES", '{"king-county": "' + "x" * 65 + '"}'),
    ],
)
def test_ids_the_database_or_the_gate_could_not_use_are_refused_at_start_up(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(ValidationError):
        AssessmentSettings()
