"""The prosecutor's and court's lapse queue: the police's own facts about each lapse and its outcome.

Warrant requests carry nothing of the case (the golden rule); a rescinded request must not be filed,
and the page says so in words, not only by colour.
"""

import uuid
from typing import Annotated, get_args

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from divert_console.adapters.services_api import ApiProblem
from divert_console.entrypoints.web import CheckedForm, Viewer, allow, flash, idempotency_key, parts, render
from divert_contracts.warrants import Disposition

router = APIRouter()

Reader = Annotated[Viewer, allow("prosecutor", "court", "program_manager")]
Acknowledger = Annotated[Viewer, allow("prosecutor", "court")]
Prosecutor = Annotated[Viewer, allow("prosecutor")]
RequestId = Annotated[uuid.UUID, Path()]
STATUSES = ("requested", "acknowledged", "rescinded")
DISPOSITIONS: tuple[str, ...] = get_args(Disposition)


@router.get("/lapses")
async def lapse_queue(
    request: Request,
    person: Reader,
    status: Annotated[str | None, Query(max_length=32)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """Lapse notices of the viewer's jurisdiction, newest first, with their status."""
    page = await parts(request).api.get(
        person.token,
        "warrants",
        "/v1/warrant-requests",
        params={"status": status or None, "cursor": cursor, "limit": 50},
        purpose="lapse review",
    )
    return render(
        request,
        "lapses.html",
        person,
        title="Lapse queue",
        requests=page["items"],
        next_cursor=page.get("next_cursor"),
        status=status or "",
        statuses=STATUSES,
    )


async def _lapse_page(
    request: Request, person: Viewer, request_id: str, *, errors: dict[str, str] | None = None, status_code: int = 200
) -> Response:
    lapse = await parts(request).api.get(
        person.token, "warrants", f"/v1/warrant-requests/{request_id}", purpose="lapse review"
    )
    return render(
        request,
        "lapse.html",
        person,
        status_code,
        title="Lapse notice",
        lapse=lapse,
        errors=errors or {},
        dispositions=DISPOSITIONS,
    )


@router.get("/lapses/{request_id}")
async def lapse_page(request: Request, person: Reader, request_id: RequestId) -> Response:
    """One lapse notice: the police's facts, the notice text, and the forms for its outcome."""
    return await _lapse_page(request, person, str(request_id))


async def _send(
    request: Request,
    person: Viewer,
    request_id: str,
    path: str,
    body: dict[str, str | None],
    form: dict[str, str],
    done: str,
) -> Response:
    try:
        await parts(request).api.send(
            person.token, "POST", "warrants", path, body, idempotency_key=idempotency_key(form)
        )
    except ApiProblem as problem:
        if problem.status >= 500 or problem.status == 404:
            raise
        errors = problem.field_messages()
        errors.setdefault("", problem.detail or problem.title)
        return await _lapse_page(request, person, request_id, errors=errors, status_code=problem.status)
    flash(request, done)
    return RedirectResponse(f"/lapses/{request_id}", status_code=303)


@router.post("/lapses/{request_id}/acknowledgement")
async def acknowledge(request: Request, person: Acknowledger, request_id: RequestId, form: CheckedForm) -> Response:
    """Acknowledge receipt of the notice (as the viewer's own role)."""
    path = f"/v1/warrant-requests/{request_id}/acknowledgement"
    return await _send(request, person, str(request_id), path, {}, form, "Acknowledged.")


@router.post("/lapses/{request_id}/disposition")
async def record_outcome(request: Request, person: Prosecutor, request_id: RequestId, form: CheckedForm) -> Response:
    """Record what the prosecutor did with the lapse (filed, declined to file, returned to the program)."""
    path = f"/v1/warrant-requests/{request_id}/disposition"
    body: dict[str, str | None] = {"disposition": form.get("disposition", "")}
    return await _send(request, person, str(request_id), path, body, form, "Outcome recorded.")
