"""The one idempotency helper every mutating route uses: the first answer is replayed to its
caller only, a key reused with another request is 409, the effect happens once and is committed
by the helper; and the scope claims every role needs, checked in one place."""

from types import SimpleNamespace
from typing import Annotated, Any
from uuid import UUID

import httpx
import pytest
from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import create_async_engine

from divert_platform.app import create_app
from divert_platform.auth import Principal, Role, allow, mint_token
from divert_platform.event_store import ConcurrencyConflict
from divert_platform.fakes import FakeUnitOfWork
from divert_platform.idempotency import IdempotentRequest, Reply
from divert_platform.problems import Conflict
from divert_platform.settings import ServiceSettings

SETTINGS = ServiceSettings(kafka_bootstrap="127.0.0.1:1")


class Note(BaseModel):
    text: str


class Refused(Exception):
    """A domain refusal the app's problem map answers with a 409."""


def build(uow: FakeUnitOfWork, effects: list[str], conflicts: list[int]) -> httpx.AsyncClient:
    router = APIRouter()
    Officer = Annotated[Principal, Depends(allow("officer", "program_manager"))]

    @router.post("/things/{thing_id}/notes", status_code=201)
    async def add_note(thing_id: UUID, body: Note, caller: Officer, idempotency: IdempotentRequest) -> Any:
        async def work() -> Any:
            if body.text == "refuse":
                raise Refused("not now")
            if conflicts:
                conflicts.pop()
                raise ConcurrencyConflict("thing", 1)
            effects.append(body.text)
            return {"thing": str(thing_id), "count": len(effects)}

        return await idempotency.run(uow, body, work, retry_on=(ConcurrencyConflict,), attempts=2)

    @router.post("/things/{thing_id}/current")
    async def current(thing_id: UUID, body: Note, caller: Officer, idempotency: IdempotentRequest) -> Any:
        async def work() -> Any:
            effects.append(body.text)
            return Reply({"count": len(effects)}, 201 if len(effects) == 1 else 200)

        return await idempotency.run(uow, body, work, replay="current")

    app = create_app(
        title="t",
        description="t",
        parts=SimpleNamespace(settings=SETTINGS, engine=create_async_engine("sqlite+aiosqlite:///:memory:")),
        routers=[router],
        problems={Refused: lambda error: Conflict(str(error))},
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


def bearer(subject: str = "o-1", role: Role = "officer", **claims: Any) -> dict[str, str]:
    claims.setdefault("agency", "SPD")
    claims.setdefault("jurisdiction", "king-county")
    return {"Authorization": f"Bearer {mint_token(SETTINGS, subject=subject, role=role, **claims)}"}


THING = "/things/5b0c4a8e-2b7f-4a8e-9a43-6f3b1c7e0a11"
OTHER = "/things/0d7c0f51-65a1-4f5e-b2b0-0c1b6cfe7d22"


async def test_a_retry_gets_the_first_answer_and_the_effect_happens_once() -> None:
    uow, effects = FakeUnitOfWork(), []
    async with build(uow, effects, []) as http:
        headers = {**bearer(), "Idempotency-Key": "k-1"}
        first = await http.post(f"{THING}/notes", json={"text": "hello"}, headers=headers)
        again = await http.post(f"{THING}/notes", json={"text": "hello"}, headers=headers)
        unkeyed = await http.post(f"{THING}/notes", json={"text": "hello"}, headers=bearer())
    assert (first.status_code, again.status_code, unkeyed.status_code) == (201, 201, 201)
    assert first.json() == again.json() == {"thing": THING.rsplit("/", 1)[1], "count": 1}
    assert unkeyed.json()["count"] == 2
    assert effects == ["hello", "hello"]
    assert uow.commits == 2  # the helper commits each effect; a replay commits nothing


async def test_a_key_reused_with_another_body_or_for_another_resource_is_a_conflict() -> None:
    uow, effects = FakeUnitOfWork(), []
    async with build(uow, effects, []) as http:
        headers = {**bearer(), "Idempotency-Key": "k-1"}
        await http.post(f"{THING}/notes", json={"text": "hello"}, headers=headers)
        other_body = await http.post(f"{THING}/notes", json={"text": "bye"}, headers=headers)
        other_thing = await http.post(f"{OTHER}/notes", json={"text": "hello"}, headers=headers)
    assert (other_body.status_code, other_thing.status_code) == (409, 409)
    assert other_body.json()["field"] == "Idempotency-Key"
    assert effects == ["hello"]


async def test_keys_belong_to_their_caller() -> None:
    uow, effects = FakeUnitOfWork(), []
    async with build(uow, effects, []) as http:
        mine = await http.post(f"{THING}/notes", json={"text": "a"}, headers={**bearer("o-1"), "Idempotency-Key": "k"})
        theirs = await http.post(
            f"{THING}/notes", json={"text": "b"}, headers={**bearer("o-2", agency="KCSO"), "Idempotency-Key": "k"}
        )
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert theirs.json()["count"] == 2  # not the other caller's stored answer
    assert effects == ["a", "b"]


async def test_a_refusal_is_answered_from_the_problem_map_and_nothing_is_committed() -> None:
    uow, effects = FakeUnitOfWork(), []
    async with build(uow, effects, []) as http:
        headers = {**bearer(), "Idempotency-Key": "k-1"}
        refused = await http.post(f"{THING}/notes", json={"text": "refuse"}, headers=headers)
        later = await http.post(f"{THING}/notes", json={"text": "refuse"}, headers=headers)
    assert (refused.status_code, later.status_code) == (409, 409)
    assert refused.json()["detail"] == "not now"
    assert uow.commits == 0 and uow.idempotency.responses == {}


async def test_a_concurrent_writer_is_retried_from_a_fresh_unit() -> None:
    uow, effects = FakeUnitOfWork(), []
    async with build(uow, effects, [1]) as http:
        response = await http.post(f"{THING}/notes", json={"text": "hi"}, headers=bearer())
    assert response.status_code == 201 and effects == ["hi"]


async def test_replay_current_runs_the_work_again_but_still_guards_the_body() -> None:
    uow, effects = FakeUnitOfWork(), []
    async with build(uow, effects, []) as http:
        headers = {**bearer(), "Idempotency-Key": "k-1"}
        first = await http.post(f"{THING}/current", json={"text": "x"}, headers=headers)
        again = await http.post(f"{THING}/current", json={"text": "x"}, headers=headers)
        reused = await http.post(f"{THING}/current", json={"text": "y"}, headers=headers)
    assert (first.status_code, again.status_code, reused.status_code) == (201, 200, 409)
    assert again.json() == {"count": 2}


@pytest.mark.parametrize(
    ("role", "claims", "status"),
    [
        ("officer", {"agency": "SPD", "jurisdiction": "king-county"}, 201),
        ("officer", {"jurisdiction": "king-county"}, 403),  # an officer is scoped by its agency
        ("officer", {"agency": "SPD"}, 403),  # and refers into its jurisdiction only
        ("program_manager", {"jurisdiction": "king-county"}, 201),
        ("program_manager", {"agency": "SPD"}, 403),  # a program manager by its jurisdiction
        ("prosecutor", {"jurisdiction": "king-county"}, 403),  # not admitted at all
    ],
)
async def test_every_scoped_role_must_carry_its_scope_claim(role: Role, claims: dict[str, str], status: int) -> None:
    async with build(FakeUnitOfWork(), [], []) as http:
        token = mint_token(SETTINGS, subject="someone", role=role, **claims)
        response = await http.post(f"{THING}/notes", json={"text": "x"}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == status, response.text
