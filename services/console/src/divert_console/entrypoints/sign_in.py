"""Signing in and out: at the identity provider in production, on a role-picking page in development."""

from authlib.integrations.base_client import OAuthError
from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from divert_console.entrypoints.web import HOMES, CheckedForm, SignInRequired, parts, render, start_session, viewer
from divert_platform.auth import InvalidToken
from divert_platform.principals import ROLES, SCOPE_CLAIMS, Role

router = APIRouter()

SIGN_IN_ROLES: tuple[Role, ...] = tuple(role for role in ROLES if role in HOMES)
"""The roles the console serves; police and service roles work through their own systems."""


@router.get("/")
async def home(request: Request) -> Response:
    """The viewer's home page, or the sign-in page."""
    try:
        person = await viewer(request)
    except SignInRequired:
        return RedirectResponse("/sign-in", status_code=303)
    return RedirectResponse(HOMES.get(person.role, "/sign-in"), status_code=303)


@router.get("/sign-in")
async def sign_in_page(request: Request) -> Response:
    """The identity provider's sign-in (production) or the development page that picks a role."""
    identity = parts(request).identity
    if identity.uses_provider:
        return await identity.begin(request)  # type: ignore[no-any-return]
    return render(request, "sign_in.html", None, roles=SIGN_IN_ROLES, values={}, errors={})


@router.post("/sign-in")
async def sign_in_development(request: Request, form: CheckedForm) -> Response:
    """Mint a development token for the chosen role and scope and start a session with it."""
    console = parts(request)
    if not console.settings.development_sign_in:
        return render(
            request, "failure.html", None, 404, title="Not here", message="Sign in at your identity provider."
        )
    chosen = form.get("role", "")
    errors: dict[str, str] = {}
    role = next((known for known in SIGN_IN_ROLES if known == chosen), None)
    claims = SCOPE_CLAIMS.get(role, ()) if role else ()
    if role is None:
        errors["role"] = "Choose one of the roles listed."
    for claim in claims:
        if not form.get(claim, "").strip():
            errors[claim] = f"A {chosen.replace('_', ' ')} signs in for one {claim}: enter it."
    subject = form.get("subject", "").strip() or "development-user"
    if role is not None and not errors:
        try:
            signed_in = await console.identity.development_sign_in(
                subject=subject,
                role=role,
                agency=form.get("agency", "").strip() if "agency" in claims else None,
                jurisdiction=form.get("jurisdiction", "").strip() or None,
            )
        except InvalidToken:
            errors["subject"] = (
                "Names and scopes are at most 64 characters (200 for a name), without control characters."
            )
        else:
            start_session(request, signed_in)
            return RedirectResponse(HOMES[signed_in.principal.role], status_code=303)
    return render(request, "sign_in.html", None, 422, roles=SIGN_IN_ROLES, values=form, errors=errors)


@router.get("/sign-in/callback")
async def sign_in_callback(request: Request) -> Response:
    """Where the identity provider sends the browser back with a code."""
    identity = parts(request).identity
    if not identity.uses_provider:
        return RedirectResponse("/sign-in", status_code=303)
    try:
        signed_in = await identity.finish(request)
    except OAuthError:
        return render(
            request,
            "failure.html",
            None,
            403,
            title="Sign-in did not finish",
            message="The identity provider's answer could not be checked. Sign in again.",
        )
    except InvalidToken:
        return render(
            request,
            "failure.html",
            None,
            403,
            title="Not a Divert token",
            message="The identity provider's token does not name a Divert role. Ask your administrator.",
        )
    if signed_in.principal.role not in HOMES:
        return render(
            request,
            "failure.html",
            None,
            403,
            title="Not a console role",
            message="Your role works through its own systems, not this console.",
        )
    start_session(request, signed_in)
    return RedirectResponse(HOMES.get(signed_in.principal.role, "/"), status_code=303)


@router.post("/sign-out")
async def sign_out(request: Request, form: CheckedForm) -> Response:
    """End the session (the cookie is emptied)."""
    request.session.clear()
    return RedirectResponse("/sign-in", status_code=303)
