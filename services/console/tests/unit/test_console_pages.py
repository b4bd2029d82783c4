"""The pages over a fake API (the browser tier runs them over the real stack): sign-in, roles, CSRF,
idempotency keys, and the API's problems shown next to the field at fault."""

import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from divert_console.adapters.identity import Identity
from divert_console.adapters.services_api import ApiProblem, ServicesApi
from divert_console.adapters.traces import TraceFiles
from divert_console.config import ConsoleSettings
from divert_console.entrypoints.app import create_console
from divert_console.entrypoints.web import ConsoleParts

CASE_ID = str(uuid.uuid4())
CASE = {
    "referral_id": CASE_ID,
    "status": "pending_assessment",
    "pathway": "arrest_diversion",
    "jurisdiction": "king-county",
    "referred_at": "2026-12-01T10:00:00+00:00",
    "assessment_due_by": "2026-12-31T10:00:00+00:00",
    "next_reminder_at": None,
    "case_manager_id": None,
    "engagement": None,
    "first_contact_at": None,
    "contacts_attempted": 0,
    "enrolled_at": None,
    "declined_reason": None,
    "closed_at": None,
    "close_reason": None,
    "subject": {"given_name": "Ada", "family_name": "Example"},
    "assessment": None,
    "consents": [],
    "timeline": [],
}


class FakeApi(ServicesApi):
    """Answers GETs from `answers` and records every command; `problem` fails the next command."""

    def __init__(self) -> None:
        super().__init__(httpx.AsyncClient(), {})
        self.sent: list[tuple[str, str, dict[str, Any], str | None]] = []
        self.problem: ApiProblem | None = None

    async def get(self, token: str, service: Any, path: str, *, params: Any = None, purpose: Any = None) -> Any:
        if path == "/v1/cases":
            return {"items": [], "next_cursor": None}
        if path == f"/v1/cases/{CASE_ID}":
            return CASE
        if path == "/v1/service-referrals":
            return {"items": []}
        raise ApiProblem(404, "Not found")

    async def send(
        self, token: str, method: Any, service: Any, path: str, body: Any, *, idempotency_key: Any = None
    ) -> Any:
        if self.problem:
            problem, self.problem = self.problem, None
            raise problem
        self.sent.append((service, path, body, idempotency_key))
        return {}


@pytest.fixture
def console(tmp_path: Any) -> Iterator[tuple[TestClient, FakeApi]]:
    settings = ConsoleSettings(data_dir=tmp_path)
    api = FakeApi()
    parts = ConsoleParts(settings, api, Identity(settings), httpx.AsyncClient(), TraceFiles(tmp_path))
    with TestClient(create_console(settings, parts)) as client:
        yield client, api


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def _sign_in(client: TestClient, role: str, **scope: str) -> None:
    token = _csrf(client.get("/sign-in").text)
    answer = client.post("/sign-in", data={"csrf_token": token, "role": role, **scope}, follow_redirects=False)
    assert answer.status_code == 303, answer.text


def test_without_a_session_every_page_sends_you_to_sign_in(console: tuple[TestClient, FakeApi]) -> None:
    client, _ = console
    for page in ("/", "/dashboard", "/cases", f"/cases/{CASE_ID}", "/lapses", "/journey", "/evaluation"):
        answer = client.get(page, follow_redirects=False)
        assert (answer.status_code, answer.headers["location"]) == (303, "/sign-in"), page


def test_a_forged_session_cookie_is_no_session(console: tuple[TestClient, FakeApi]) -> None:
    client, _ = console
    client.cookies.set("divert_session", "gAAAAAforged")
    assert client.get("/cases", follow_redirects=False).headers["location"] == "/sign-in"


def test_each_role_lands_on_its_page_and_is_refused_the_others(console: tuple[TestClient, FakeApi]) -> None:
    client, _ = console
    _sign_in(client, "case_manager", agency="reach-king-county")
    assert client.get("/cases").status_code == 200
    for page in ("/dashboard", "/lapses", "/journey"):
        assert client.get(page).status_code == 403, page


def test_a_form_without_the_sessions_csrf_token_changes_nothing(console: tuple[TestClient, FakeApi]) -> None:
    client, api = console
    _sign_in(client, "case_manager", agency="reach-king-county")
    form = {"at": "2026-12-07T10:00", "method": "phone", "outcome": "made", "idempotency_key": str(uuid.uuid4())}
    assert client.post(f"/cases/{CASE_ID}/contact", data=form).status_code == 403
    assert client.post(f"/cases/{CASE_ID}/contact", data={**form, "csrf_token": "guess"}).status_code == 403
    assert api.sent == []


def test_a_step_goes_to_its_route_with_the_forms_idempotency_key(console: tuple[TestClient, FakeApi]) -> None:
    client, api = console
    _sign_in(client, "case_manager", agency="reach-king-county")
    page = client.get(f"/cases/{CASE_ID}").text
    key = str(uuid.uuid4())
    form = {
        "csrf_token": _csrf(page),
        "idempotency_key": key,
        "at": "2026-12-07T10:00",
        "method": "phone",
        "outcome": "made",
    }
    answer = client.post(f"/cases/{CASE_ID}/contact", data=form, follow_redirects=False)
    assert answer.status_code == 303
    assert api.sent == [
        (
            "assessment",
            f"/v1/cases/{CASE_ID}/contacts",
            {"at": "2026-12-07T10:00:00+00:00", "method": "phone", "outcome": "made"},
            key,
        )
    ]
    assert "Contact recorded." in client.get(answer.headers["location"]).text


def test_the_apis_problem_is_shown_next_to_the_field_at_fault(console: tuple[TestClient, FakeApi]) -> None:
    client, api = console
    _sign_in(client, "case_manager", agency="reach-king-county")
    page = client.get(f"/cases/{CASE_ID}").text
    api.problem = ApiProblem(
        422,
        "Request is invalid",
        "invalid or missing: body.enrolled_at",
        [{"field": "body.enrolled_at", "message": "must not be in the future", "code": "invalid"}],
    )
    form = {"csrf_token": _csrf(page), "idempotency_key": str(uuid.uuid4()), "enrolled_at": "2099-01-01T00:00"}
    answer = client.post(f"/cases/{CASE_ID}/enrollment", data=form)
    assert answer.status_code == 422
    field = re.search(r'<input id="enrollment-enrolled_at"[^>]*>', answer.text)
    assert field and 'aria-describedby="enrollment-enrolled_at-error"' in field.group(0)
    assert re.search(r'id="enrollment-enrolled_at-error"[^>]*>must not be in the future<', answer.text)
    assert 'value="2099-01-01T00:00"' in field.group(0)  # what was typed is kept


def test_an_item_id_is_an_id_never_a_path(console: tuple[TestClient, FakeApi]) -> None:
    client, api = console
    _sign_in(client, "case_manager", agency="reach-king-county")
    form = {"csrf_token": _csrf(client.get(f"/cases/{CASE_ID}").text), "item": "../../manager"}
    assert client.post(f"/cases/{CASE_ID}/revocation", data=form).status_code == 404
    assert api.sent == []


def test_signing_out_ends_the_session(console: tuple[TestClient, FakeApi]) -> None:
    client, _ = console
    _sign_in(client, "case_manager", agency="reach-king-county")
    page = client.get("/cases").text
    client.post("/sign-out", data={"csrf_token": _csrf(page)})
    assert client.get("/cases", follow_redirects=False).headers["location"] == "/sign-in"


def test_outside_development_the_console_needs_an_identity_provider_and_its_own_session_key() -> None:
    with pytest.raises(ValueError, match="DIVERT_SESSION_KEY"):
        ConsoleSettings(environment="production", jwks_url="https://idp.example/jwks")
