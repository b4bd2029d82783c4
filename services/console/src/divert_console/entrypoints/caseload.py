"""The case manager's pages: the agency's caseload and a case with a form for each lifecycle step."""

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from divert_console.adapters.services_api import ApiProblem
from divert_console.entrypoints.case_steps import CHOICES, NEED_DOMAINS, STEPS, minute_of
from divert_console.entrypoints.web import CheckedForm, Viewer, allow, flash, idempotency_key, parts, render

router = APIRouter()

CaseManager = Annotated[Viewer, allow("case_manager")]
PURPOSE = "case management"
DUE_HORIZON_DAYS = 366
ReferralId = Annotated[uuid.UUID, Path()]


def days_left(due_by: str | None, now: datetime) -> int | None:
    """Whole days from now to a due time (negative once overdue)."""
    if not due_by:
        return None
    return (datetime.fromisoformat(due_by) - now).days


@router.get("/cases")
async def caseload(
    request: Request,
    person: CaseManager,
    status: Annotated[str | None, Query(max_length=32)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """The agency's assessments coming due (soonest first), then all its cases (newest first, a page at a time)."""
    api = parts(request).api
    due = await api.get(
        person.token,
        "assessment",
        "/v1/cases",
        params={"due_within_days": DUE_HORIZON_DAYS, "limit": 100},
        purpose=PURPOSE,
    )
    every = await api.get(
        person.token,
        "assessment",
        "/v1/cases",
        params={"status": status or None, "cursor": cursor, "limit": 50},
        purpose=PURPOSE,
    )
    now = datetime.now(UTC)
    return render(
        request,
        "caseload.html",
        person,
        title="Caseload",
        due=due["items"],
        cases=every["items"],
        next_cursor=every.get("next_cursor"),
        status=status or "",
        now=now,
        days_left=days_left,
        statuses=("pending_assessment", "assessed", "enrolled", "declined", "closed"),
    )


async def _case_page(
    request: Request,
    person: Viewer,
    referral_id: str,
    *,
    failed: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    api = parts(request).api
    case = await api.get(person.token, "assessment", f"/v1/cases/{referral_id}", purpose=PURPOSE)
    suggestions: list[dict[str, Any]] = []
    if case.get("assessment"):
        try:
            found = await api.get(person.token, "directory", f"/v1/cases/{referral_id}/suggestions", purpose=PURPOSE)
            suggestions = found.get("suggestions", [])
        except ApiProblem:
            suggestions = []  # the directory has not heard of the assessment yet: none to suggest
    try:
        referred = await api.get(
            person.token, "directory", "/v1/service-referrals", params={"referral_id": referral_id}, purpose=PURPOSE
        )
        service_referrals = referred.get("items", [])
    except ApiProblem:
        service_referrals = []
    zone = parts(request).settings.display_timezone
    errors, values = errors or {}, values or {}

    def errors_for(step: str) -> dict[str, str]:
        return errors if step == failed else {}

    def value(step: str, name: str, default: str = "") -> str:
        return values.get(name, default) if step == failed else default

    return render(
        request,
        "case.html",
        person,
        status_code,
        title="Case",
        case=case,
        suggestions=suggestions,
        service_referrals=service_referrals,
        failed=failed,
        errors=errors,
        errors_for=errors_for,
        value=value,
        need_domains=NEED_DOMAINS,
        choices=CHOICES,
        drawn_at=(drawn := datetime.now(UTC)).isoformat(),
        now_value=minute_of(drawn, ZoneInfo(zone)),
        days_left=days_left(case.get("assessment_due_by"), datetime.now(UTC)),
    )


@router.get("/cases/{referral_id}")
async def case_page(request: Request, person: CaseManager, referral_id: ReferralId) -> Response:
    """A case: who, where it stands, its timeline, and the forms for what can happen next."""
    return await _case_page(request, person, str(referral_id))


@router.post("/cases/{referral_id}/{step}")
async def case_step(
    request: Request, person: CaseManager, referral_id: ReferralId, step: str, form: CheckedForm
) -> Response:
    """Send one lifecycle step to its API with the form's idempotency key; back to the case page with the
    outcome, or the page again with the API's problem next to the field at fault."""
    command = STEPS.get(step)
    if command is None:
        return render(request, "failure.html", person, 404, title="No such step", message="Go back to the case.")
    console = parts(request)
    zone = ZoneInfo(console.settings.display_timezone)
    body = command.body({**form, "referral_id": str(referral_id)}, zone)
    item = form.get("item", "")
    if "{item}" in command.path:
        try:
            item = str(uuid.UUID(item))  # an id, never a path of its own
        except ValueError:
            return render(request, "failure.html", person, 404, title="No such item", message="Go back to the case.")
    path = command.path.format(referral_id=referral_id, item=item)
    try:
        await console.api.send(
            person.token, command.method, command.service, path, body, idempotency_key=idempotency_key(form)
        )
    except ApiProblem as problem:
        if problem.status >= 500 or problem.status == 404:
            raise
        errors = problem.field_messages() or {"": problem.detail or problem.title}
        errors.setdefault("", problem.detail or problem.title)
        return await _case_page(
            request, person, str(referral_id), failed=step, errors=errors, values=form, status_code=problem.status
        )
    flash(request, command.done)
    return RedirectResponse(f"/cases/{referral_id}#{step}", status_code=303)
