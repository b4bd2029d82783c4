"""Whose callback endpoints a caller manages, and what each audience may subscribe to."""

import pytest

from divert_intake.entrypoints.callback_schemas import EndpointRequest
from divert_intake.entrypoints.callers import endpoint_scope
from divert_intake.service_layer.status_callbacks import CALLBACK_TYPES, PROSECUTION_TYPES
from divert_platform.auth import Principal
from divert_platform.problems import Forbidden


def row(audience: str, jurisdiction: str, agency: str | None) -> dict[str, str | None]:
    return {"audience": audience, "jurisdiction": jurisdiction, "agency": agency}


def test_an_agency_administrator_manages_its_agencys_endpoints_in_its_jurisdiction() -> None:
    scope = endpoint_scope(Principal("spd-it", "agency_admin", agency="SPD", jurisdiction="king-county"))

    assert (scope.audience, scope.jurisdiction, scope.agency) == ("agency", "king-county", "SPD")
    assert scope.event_types == CALLBACK_TYPES
    assert scope.admits(row("agency", "king-county", "SPD"))
    assert not scope.admits(row("agency", "king-county", "KCSO"))
    assert not scope.admits(row("agency", "santa-fe", "SPD"))
    assert not scope.admits(row("jurisdiction", "king-county", None))


def test_a_prosecutor_manages_its_jurisdictions_endpoints_for_warrant_decisions_only() -> None:
    scope = endpoint_scope(Principal("kc-pao", "prosecutor", jurisdiction="king-county"))

    assert (scope.audience, scope.jurisdiction, scope.agency) == ("jurisdiction", "king-county", None)
    assert scope.event_types == PROSECUTION_TYPES
    assert "referral.accepted" not in scope.event_types
    assert scope.admits(row("jurisdiction", "king-county", None))
    assert not scope.admits(row("agency", "king-county", "SPD"))
    assert not scope.admits(row("jurisdiction", "santa-fe", None))


def test_a_token_for_every_jurisdiction_manages_none() -> None:
    with pytest.raises(Forbidden) as refused:
        endpoint_scope(Principal("state-pao", "prosecutor", jurisdiction="*"))
    assert refused.value.extensions == {"claim": "jurisdiction"}


def test_a_registration_names_each_event_type_once() -> None:
    with pytest.raises(ValueError, match="each event type once"):
        EndpointRequest.model_validate({"url": "https://rms.example.org/", "event_types": ["referral.lapsed"] * 2})
    assert EndpointRequest.model_validate({"url": "https://rms.example.org/"}).event_types is None
