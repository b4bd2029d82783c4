"""What every page shares: the signed-in viewer, CSRF checks, rendering, and the answers to failures."""

import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import httpx
from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from divert_console.adapters.identity import Identity, SignedIn
from divert_console.adapters.services_api import ServicesApi
from divert_console.adapters.traces import TraceSource
from divert_console.config import ConsoleSettings
from divert_platform.auth import InvalidToken
from divert_platform.principals import Role

templates = Jinja2Templates(directory=Path(__file__).parent.parent / "templates")

HOMES: dict[str, str] = {
    "program_manager": "/dashboard",
    "evaluator": "/evaluation",
    "case_manager": "/cases",
    "prosecutor": "/lapses",
    "court": "/lapses",
    "ops": "/journey",
}
"""Each role the console serves, and the page it lands on after sign-in."""

NAVIGATION: dict[str, list[tuple[str, str]]] = {
    "program_manager": [("/dashboard", "Dashboard"), ("/lapses", "Lapse queue"), ("/evaluation", "Evaluation")],
    "evaluator": [("/evaluation", "Evaluation")],
    "case_manager": [("/cases", "Caseload")],
    "prosecutor": [("/lapses", "Lapse queue")],
    "court": [("/lapses", "Lapse queue")],
    "ops": [("/journey", "Referral journey")],
}


class SignInRequired(Exception):
    """No valid session: the page answers with a redirect to the sign-in page."""


class NotYourPage(Exception):
    """The viewer's role has no business on this page (403)."""


class BadForm(Exception):
    """A form without its CSRF token, or with a wrong one (403): nothing was done."""


@dataclass(frozen=True)
class Viewer:
    """The signed-in user: their API token and what it says about them."""

    token: str
    subject: str
    role: Role
    agency: str | None
    jurisdiction: str | None
    csrf: str


def parts(request: Request) -> "ConsoleParts":
    """The console's composition root (bootstrap)."""
    return request.app.state.parts  # type: ignore[no-any-return]


@dataclass(frozen=True)
class ConsoleParts:
    """What the pages use: settings, the APIs, the identity provider."""

    settings: ConsoleSettings
    api: ServicesApi
    identity: Identity
    http: httpx.AsyncClient
    traces: TraceSource


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use; the sign-in page needs one before anyone signs in)."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def start_session(request: Request, signed_in: SignedIn) -> None:
    """Replace the session with a signed-in one (a fresh CSRF token too: no fixation across sign-in)."""
    request.session.clear()
    request.session.update(token=signed_in.token, csrf=secrets.token_urlsafe(32))


async def viewer(request: Request) -> Viewer:
    """The signed-in viewer, re-verified on every request as the APIs verify it (expiry included)."""
    token = request.session.get("token")
    if not isinstance(token, str):
        raise SignInRequired
    try:
        principal = await parts(request).identity.verify(token)
    except InvalidToken as error:
        request.session.clear()
        raise SignInRequired from error
    return Viewer(
        token, principal.subject, principal.role, principal.agency, principal.jurisdiction, csrf_token(request)
    )


def allow(*roles: Role) -> Any:
    """A dependency admitting viewers of `roles` (a 403 page for the rest)."""

    async def admitted(person: Annotated[Viewer, Depends(viewer)]) -> Viewer:
        if person.role not in roles:
            raise NotYourPage
        return person

    return Depends(admitted)


def require_csrf(request: Request, sent: object) -> None:
    """`BadForm` unless `sent` is the session's CSRF token (synchroniser token pattern)."""
    expected = request.session.get("csrf")
    if not isinstance(sent, str) or not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
        raise BadForm


async def checked_form(request: Request) -> dict[str, str]:
    """The posted form's text fields, once its CSRF token matches the session's."""
    form = await request.form()
    require_csrf(request, form.get("csrf_token"))
    return {key: value for key, value in form.items() if isinstance(value, str)}


CheckedForm = Annotated[dict[str, str], Depends(checked_form)]


def idempotency_key(form: dict[str, str]) -> str:
    """The key the form was rendered with (the same on a double submit); a fresh one if it is not a UUID."""
    try:
        return str(uuid.UUID(form.get("idempotency_key", "")))
    except ValueError:
        return str(uuid.uuid4())


def render(request: Request, template: str, person: Viewer | None, status_code: int = 200, **context: Any) -> Response:
    """A page: the template with the viewer, their navigation and a fresh idempotency key per form."""
    settings = parts(request).settings
    return templates.TemplateResponse(
        request,
        template,
        {
            "viewer": person,
            "navigation": NAVIGATION.get(person.role, []) if person else [],
            "csrf": person.csrf if person else csrf_token(request),
            "new_key": lambda: str(uuid.uuid4()),
            "zone": ZoneInfo(settings.display_timezone),
            "flash": request.session.pop("flash", None),
            **context,
        },
        status_code=status_code,
    )


def flash(request: Request, message: str) -> None:
    """A one-time status message for the next page (after a redirect)."""
    request.session["flash"] = message


def parse_instant(value: str | None, zone: ZoneInfo) -> datetime | None:
    """A time from a `datetime-local` field, read in the program's zone, in UTC (None if empty)."""
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def local_time(value: str | datetime | None, zone: ZoneInfo) -> str:
    """An API instant as the program reads it: `2026-12-07 09:30 PST`."""
    if not value:
        return "—"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


templates.env.filters["local"] = local_time
