"""Warrants' REST API: intake's deadline worker tells of lapses; prosecutors and courts acknowledge
the requests; prosecutors record what they did with them (the disposition); prosecutors, courts and
program managers read them, with the police's own facts about each referral, rescissions and review
flags included.

A lapse notice is a claim, not a fact: warrants makes a request only when its own record of the
referral (from intake's events, see `service_layer/handlers.py`) shows an accepted arrest
diversion whose lapse intake recorded, and makes it of the record's values.

Who may call what is docs/access.md (`callers.py`). There is no read audit here: warrant requests
carry referral ids, jurisdictions, kinds and dates, never a person's name or case content, so no
personal data is read through this API (every write is still attributed in the event store). The
police facts shown (RMS agency, case number, officer id, offense) are the police's own, never who
the person is and never anything of the case agency's (LEAD's golden rule).
"""

from datetime import datetime
from typing import Annotated, Any, cast
from uuid import UUID, uuid4

from fastapi import APIRouter, Body, FastAPI, Query

from divert_contracts.referrals import LapseAction
from divert_contracts.warrant_requests import WarrantRequestBody
from divert_contracts.warrants import AcknowledgingRole
from divert_platform.app import create_app
from divert_platform.auth import Principal
from divert_platform.clock import utcnow
from divert_platform.dependencies import ReadSession
from divert_platform.event_store import ConcurrencyConflict
from divert_platform.idempotency import IdempotentRequest, Ids, Reply, View
from divert_platform.pagination import Cursor
from divert_platform.problems import Forbidden, NotFound, problem_responses
from divert_platform.text import FreeText, JurisdictionId
from divert_warrants.adapters.warrant_request_views import WarrantRequestFilter, find_request, list_requests
from divert_warrants.bootstrap import UnitOfWork, Warrants, bootstrap
from divert_warrants.domain.commands import AcknowledgeRequest, RecordDisposition, RequestWarrant
from divert_warrants.domain.notice import notice
from divert_warrants.domain.warrant_request import WarrantRequestStatus, may_file
from divert_warrants.entrypoints.callers import (
    Acknowledger,
    DeadlineWorker,
    Prosecutor,
    Reader,
    jurisdiction_scope,
    may_see,
)
from divert_warrants.entrypoints.problems import PROBLEMS, RETRY_AFTER_SECONDS
from divert_warrants.entrypoints.schemas import (
    MAX_PAGE,
    AcknowledgementBody,
    DispositionBody,
    WarrantRequestList,
    WarrantRequestView,
)
from divert_warrants.service_layer import handlers
from divert_warrants.service_layer.ports import DuplicateWarrantRequest
from divert_warrants.service_layer.unit_of_work import SqlWarrantsUnitOfWork

router = APIRouter(
    prefix="/v1/warrant-requests",
    tags=["warrant requests"],
    responses=problem_responses(400, 401, 403, 404, 409, 413, 422, 500),
)
# A concurrent writer for the same referral or request makes a transaction fail; the retry starts
# afresh and finds what the other one committed.
CONCURRENT_WRITERS = (DuplicateWarrantRequest, ConcurrencyConflict)


@router.post(
    "",
    status_code=201,
    response_model=WarrantRequestView,
    summary="Request a warrant for a lapsed referral",
    responses={
        200: {"model": WarrantRequestView, "description": "The referral already had a request."},
        409: {
            **problem_responses(409)[409],
            "description": (
                "`lapse-not-recorded` (with `Retry-After`): warrants has not heard of the referral's acceptance or "
                "lapse yet, retry; `concurrent-request` (with `Retry-After`): retry; `conflict`: the "
                "`Idempotency-Key` was used with another body; `lapse-superseded`: the lapse is before the due time "
                "in force."
            ),
            "headers": {
                "Retry-After": {
                    "description": "Seconds to wait before retrying.",
                    "schema": {"type": "integer", "minimum": 1, "maximum": RETRY_AFTER_SECONDS},
                }
            },
        },
        **problem_responses(415),
    },
)
async def request_warrant(
    body: WarrantRequestBody, caller: DeadlineWorker, uow: UnitOfWork, idempotency: IdempotentRequest
) -> Any:
    """Record that a referral's assessment window lapsed and ask the prosecutor or court to act.

    Only intake's deadline worker calls this (the `deadline_worker` role; the generic `service`
    role is refused).

    Warrants decides from its own record of the referral, never from the body: a request is made
    only when intake's events (on `divert.referrals`) show an accepted arrest diversion whose lapse
    intake recorded at or after the due time in force (extensions included). The request carries
    the record's jurisdiction, kind (the lapse action), due time and lapse time. A body that
    contradicts the record (`jurisdiction`, `kind`, `assessment_due_by`) or itself (`lapsed_at`
    before `assessment_due_by`) is a 422 naming the field, and nothing is recorded. A call that
    overtakes the referral's acceptance or lapse event is a 409 whose `type` ends in
    `lapse-not-recorded`, with `Retry-After`: the same call succeeds once the events arrive.

    Idempotent per referral: the first call creates the request (201) and publishes
    `warrant.requested`; every later call for the same referral returns that request as it
    stands now and publishes nothing, whatever its key: 200, or the first call's status when it
    repeats that call's `Idempotency-Key`. Reusing an `Idempotency-Key` with a different body is
    a 409 `conflict` (`field`: `Idempotency-Key`).

    No wrongful warrant: if warrants' record shows the assessment completed at or before the due
    time in force, or the referral withdrawn (events can overtake the lapse), the request is
    recorded and rescinded together. The answer is still 201, with status `rescinded` and the
    reason, and both `warrant.requested` and `warrant.request_rescinded` are published in one
    transaction: the audit trail keeps every lapse intake reported and why it did not stand, and
    no reader ever sees the request standing alone.
    """
    command = RequestWarrant(
        warrant_request_id=uuid4(),
        referral_id=body.referral_id,
        jurisdiction=body.jurisdiction,
        kind=body.kind,
        assessment_due_by=body.assessment_due_by,
        lapsed_at=body.lapsed_at,
        at=utcnow(),
    )

    async def record() -> Reply:
        outcome = await handlers.request_warrant(command, uow)
        return Reply({"warrant_request_id": outcome.request.id}, 201 if outcome.created else 200)

    view = _as_it_stands(uow, None)  # the deadline worker raises requests of every jurisdiction
    return await idempotency.run(uow, body, record, view=view, retry_on=CONCURRENT_WRITERS, attempts=3)


@router.get("", response_model=WarrantRequestList, summary="List warrant requests")
async def list_warrant_requests(
    caller: Reader,
    session: ReadSession,
    referral_id: UUID | None = None,
    status: WarrantRequestStatus | None = None,
    jurisdiction: Annotated[JurisdictionId | None, Query()] = None,
    kind: LapseAction | None = None,
    flagged: Annotated[bool | None, Query(description="Only requests (not) flagged for review.")] = None,
    agency: Annotated[FreeText | None, Query(max_length=64, description="Only requests of this RMS agency.")] = None,
    lapsed_from: Annotated[datetime | None, Query(description="Only windows that lapsed at or after this.")] = None,
    lapsed_to: Annotated[datetime | None, Query(description="Only windows that lapsed before this.")] = None,
    cursor: Annotated[Cursor | None, Query(description="`next_cursor` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="At most this many, oldest first.")] = 100,
) -> Any:
    """Warrant requests matching every filter given, oldest first, a page at a time: pass the
    answer's `next_cursor` as `cursor` (with the same filters) for the next page; it is null on
    the last one. A cursor this listing did not hand out is a 422 naming `query.cursor`.

    Each request shows the police's own facts (RMS agency, case number, officer id, offense
    category and statute, referral time, policy version, the due time it set), the due time in
    force at the lapse (extensions included), the lapse, `kind` (`warrant_request` or
    `return_for_charging`), `may_file` and a plain-language `notice`. Never who the person is and
    never anything of the case agency's.

    Only requests of the caller's token's jurisdiction are listed (every jurisdiction's for a
    prosecutor's or court's `jurisdiction: "*"`); a `jurisdiction` filter naming another finds
    nothing. A token without `jurisdiction` is a 403."""
    scope = jurisdiction_scope(caller)
    if scope is not None:
        if jurisdiction not in (None, scope):
            return {"items": [], "next_cursor": None}
        jurisdiction = scope
    where = WarrantRequestFilter(
        referral_id=referral_id,
        status=status.value if status else None,
        jurisdiction=jurisdiction,
        kind=kind,
        flagged=flagged,
        agency=agency,
        lapsed_from=lapsed_from,
        lapsed_to=lapsed_to,
    )
    rows, next_cursor = await list_requests(session, where, cursor=cursor, limit=limit)
    return {"items": [_shown(row) for row in rows], "next_cursor": next_cursor}


@router.get("/{warrant_request_id}", response_model=WarrantRequestView, summary="A warrant request")
async def get_warrant_request(warrant_request_id: UUID, caller: Reader, session: ReadSession) -> Any:
    """One warrant request: the police's own facts about its referral, its kind, status, dates,
    `may_file`, `notice`, rescission, review flag and disposition.

    A request of a jurisdiction outside the caller's scope is a 404."""
    view = await find_request(session, warrant_request_id)
    if view is None or not may_see(caller, view["jurisdiction"]):
        raise NotFound(f"no warrant request {warrant_request_id}")
    return _shown(view)


@router.post(
    "/{warrant_request_id}/acknowledgement",
    response_model=WarrantRequestView,
    summary="Acknowledge a warrant request",
    responses=problem_responses(415),
)
async def acknowledge_warrant_request(
    warrant_request_id: UUID,
    caller: Acknowledger,
    uow: UnitOfWork,
    idempotency: IdempotentRequest,
    body: Annotated[AcknowledgementBody | None, Body()] = None,
) -> Any:
    """The prosecutor or court takes the request and acts on it outside Divert.

    Who acknowledges is the caller's role (`prosecutor` or `court`, from its token). The body
    may be omitted; an `acknowledged_by` in it is accepted for compatibility only when it
    names the caller's own role (a 403 otherwise). A request outside the caller's
    jurisdiction (its token's `jurisdiction`; `"*"` for all) is a 404.

    Publishes `warrant.request_acknowledged`. Repeating the call with the same
    `acknowledged_by` is a harmless retry (200, nothing new recorded). Acknowledging a
    rescinded request, or one the other role already acknowledged, is a 409 whose
    `current_state` says where the request stands. Should an acknowledged request later
    turn out wrongful, it is not changed but `flagged` for the prosecutor's review.
    """
    role = cast(AcknowledgingRole, caller.role)
    if body is not None and body.acknowledged_by not in (None, role):
        raise Forbidden(f"a {role} may not acknowledge as {body.acknowledged_by}")
    command = AcknowledgeRequest(warrant_request_id, by=role, at=utcnow())

    async def acknowledge() -> Ids:
        request = await find_request(uow.session, warrant_request_id)
        if request is None or not may_see(caller, request["jurisdiction"]):
            raise NotFound(f"no warrant request {warrant_request_id}")
        await handlers.acknowledge_request(command, uow)
        return {"warrant_request_id": warrant_request_id}

    view = _as_it_stands(uow, caller)
    # A rescission racing with us wins or loses on the stream version; the retry sees the winner.
    return await idempotency.run(uow, body, acknowledge, view=view, retry_on=(ConcurrencyConflict,), attempts=3)


@router.post(
    "/{warrant_request_id}/disposition",
    response_model=WarrantRequestView,
    summary="Record what the prosecutor did with a warrant request",
    responses={
        409: {
            **problem_responses(409)[409],
            "description": (
                "`filing-refused`: `filed` on a request with `may_file: false` (rescinded, or flagged as wrongful); "
                "`conflict`: another disposition was recorded already, or the `Idempotency-Key` was used with "
                "another body. `current_state` says where the request stands."
            ),
        },
        **problem_responses(415),
    },
)
async def record_disposition(
    warrant_request_id: UUID,
    body: DispositionBody,
    caller: Prosecutor,
    uow: UnitOfWork,
    idempotency: IdempotentRequest,
) -> Any:
    """The prosecutor records what they did with the request: `filed`, `declined_to_file` or
    `returned_to_program`. Publishes `warrant.request_disposed` on `divert.warrants`. A request
    nobody acknowledged yet is acknowledged by the prosecutor first (`warrant.request_acknowledged`
    too): once acted on, a request later found wrongful is flagged for review, never rescinded.

    Only prosecutors (their token's `jurisdiction`, or `"*"`); a request outside it is a 404.
    A request is disposed once: repeating the same disposition is a harmless retry (200, nothing
    new recorded), another one is a 409 `conflict`. Nothing may be filed on a rescinded or flagged
    request (`may_file: false`): `filed` there is a 409 whose `type` ends in `filing-refused` and
    nothing is recorded; declining or returning the person to the program is always allowed.
    """
    command = RecordDisposition(warrant_request_id, disposition=body.disposition, at=utcnow())

    async def dispose() -> Ids:
        request = await find_request(uow.session, warrant_request_id)
        if request is None or not may_see(caller, request["jurisdiction"]):
            raise NotFound(f"no warrant request {warrant_request_id}")
        await handlers.record_disposition(command, uow)
        return {"warrant_request_id": warrant_request_id}

    view = _as_it_stands(uow, caller)
    # A rescission racing with us wins or loses on the stream version; the retry sees the winner.
    return await idempotency.run(uow, body, dispose, view=view, retry_on=(ConcurrencyConflict,), attempts=3)


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    """A read-model row as the API shows it: with whether anything may be filed and its notice."""
    return {
        **row,
        "may_file": may_file(row["status"], row["flagged"]),
        "notice": notice(row["kind"], row["status"], row["rescission_reason"], row["flag_reason"], row["disposition"]),
    }


def _as_it_stands(uow: SqlWarrantsUnitOfWork, reader: Principal | None) -> View:
    """The answer of a change: the warrant request as it stands (a 404 outside `reader`'s scope)."""

    async def view(ids: Ids) -> dict[str, Any]:
        request = await find_request(uow.session, ids["warrant_request_id"])
        if request is None or (reader is not None and not may_see(reader, request["jurisdiction"])):
            raise NotFound(f"no warrant request {ids['warrant_request_id']}")
        return _shown(request)

    return view


def build_api(warrants: Warrants) -> FastAPI:
    """The warrants API over already-built parts (tests pass their own)."""
    return create_app(
        title="Divert warrants",
        description="Warrant requests raised when an arrest diversion's assessment window lapses.",
        parts=warrants,
        routers=[router],
        problems=PROBLEMS,
    )


def create_api() -> FastAPI:
    """The API of this process, from the environment (used by `divert-warrants api`)."""
    return build_api(bootstrap())
