"""The one idempotency helper every mutating route uses: a retry makes no second effect and gets
the first status with the resource as it stands now, for its caller only; a key keeps ids, never
a body; a key reused with another request is 409; the effect happens once and is committed by the
helper; and the scope claims every role needs, checked in one place."""

from types import SimpleNamespace
from typing import Annotated, Any
from uuid import UUID, uuid4

import httpx
import pytest
from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import create_async_engine

from divert_platform.app import create_app
from divert_platform.auth import Principal, Role, allow, mint_token
from divert_platform.event_store import ConcurrencyConflict
from divert_platform.fakes import FakeUnitOfWork
from divert_platform.idempotency import IdempotentRequest, Ids, Reply
from divert_platform.problems import Conflict
from divert_platform.settings import ServiceSettings

SETTINGS = ServiceSettings(kafka_bootstrap="127.0.0.1:1")


class Note(BaseModel):
    text: str


class Refused(Exception):
    """A domain refusal the app's problem map answers with a 409."""


class Notes:
    """What the routes below change: notes by id, each with its text and how often it was edited."""

    def __init__(self) -> None:
        self.rows: dict[UUID, dict[str, Any]] = {}

    async def view(self, ids: Ids) -> dict[str, Any]:
        """A note as it stands (what a route answers with, first time or retry)."""
        return {"note_id": str(ids["note_id"]), **self.rows[ids["note_id"]]}


def build(
    uow: FakeUnitOfWork, effects: list[str], conflicts: list[int], notes: Notes | None = None
) -> httpx.AsyncClient:
    router = APIRouter()
    Officer = Annotated[Principal, Depends(allow("officer", "program_manager"))]
    notes = notes or Notes()

    @router.post("/things/{thing_id}/notes", status_code=201)
    async def add_note(thing_id: UUID, body: Note, caller: Officer, idempotency: IdempotentRequest) -> Any:
        async def work() -> Ids:
            if body.text == "refuse":
                raise Refused("not now")
            if conflicts:
                conflicts.pop()
                raise ConcurrencyConflict("thing", 1)
            effects.append(body.text)
            note_id = uuid4()
            notes.rows[note_id] = {"thing": str(thing_id), "text": body.text, "count": len(effects)}
            return {"note_id": note_id}

        return await idempotency.run(uow, body, work, view=notes.view, retry_on=(ConcurrencyConflict,), attempts=2)

    @router.put("/things/{thing_id}/notes/{note_id}")
    async def put_note(
        thing_id: UUID, note_id: UUID, body: Note, caller: Officer, idempotency: IdempotentRequest
    ) -> Any:
        async def work() -> Reply:  # 201 when it makes the note, 200 when it was there already
            effects.append(body.text)
            made = note_id not in notes.rows
            notes.rows[note_id] = {"thing": str(thing_id), "text": body.text, "count": len(effects)}
            return Reply({"note_id": note_id}, 201 if made else 200)

        return await idempotency.run(uow, body, work, view=notes.view)

    @router.post("/things/{thing_id}/leaks", status_code=201)
    async def leak(thing_id: UUID, body: Note, caller: Officer, idempotency: IdempotentRequest) -> Any:
        async def work() -> Any:
            effects.append(body.text)
            return {"text": body.text}  # a body where ids belong: refused before anything is kept

        return await idempotency.run(uow, body, work, view=notes.view)

    @router.post("/things/{thing_id}/queue", status_code=202)
    async def queue(thing_id: UUID, body: Note, caller: Officer, idempotency: IdempotentRequest) -> Any:
        async def work() -> Ids:
            effects.append(body.text)
            return {}  # nothing to read again: the answer is the same every time

        async def queued(ids: Ids) -> dict[str, Any]:
            return {"queued": True}

        return await idempotency.run(uow, body, work, view=queued)

    @router.post("/things/{thing_id}/told", status_code=201)
    async def tell(thing_id: UUID, body: Note, caller: Officer, idempotency: IdempotentRequest) -> Any:
        async def work() -> Reply:  # the first answer says more than what is kept (intake's reasons)
            effects.append(body.text)
            note_id = uuid4()
            notes.rows[note_id] = {"thing": str(thing_id), "text": "kept", "count": len(effects)}
            return Reply({"note_id": note_id}, 201, answer={"note_id": str(note_id), "told": body.text})

        return await idempotency.run(uow, body, work, view=notes.view)

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
KEYED = {"Idempotency-Key": "k-1"}  # with `bearer()`, built when the test runs (tokens expire)


async def test_a_retry_gets_the_first_status_and_the_resource_as_it_stands_and_the_effect_happens_once() -> None:
    uow, effects, notes = FakeUnitOfWork(), [], Notes()
    async with build(uow, effects, [], notes) as http:
        headers = {**bearer(), "Idempotency-Key": "k-1"}
        first = await http.post(f"{THING}/notes", json={"text": "hello"}, headers=headers)
        note_id = UUID(first.json()["note_id"])
        notes.rows[note_id]["text"] = "edited since"  # the resource changes between the two
        again = await http.post(f"{THING}/notes", json={"text": "hello"}, headers=headers)
        unkeyed = await http.post(f"{THING}/notes", json={"text": "hello"}, headers=bearer())
    assert (first.status_code, again.status_code, unkeyed.status_code) == (201, 201, 201)
    thing = THING.rsplit("/", 1)[1]
    assert first.json() == {"note_id": str(note_id), "thing": thing, "text": "hello", "count": 1}
    assert again.json() == {"note_id": str(note_id), "thing": thing, "text": "edited since", "count": 1}
    assert unkeyed.json()["count"] == 2 and unkeyed.json()["note_id"] != str(note_id)
    assert effects == ["hello", "hello"]
    assert uow.commits == 2  # the helper commits each effect; a replay commits nothing


async def test_a_key_keeps_the_status_and_ids_and_nothing_of_the_body() -> None:
    uow = FakeUnitOfWork()
    async with build(uow, [], []) as http:
        first = await http.post(
            f"{THING}/notes", json={"text": "Jordan Doe +12065550100"}, headers={**bearer(), **KEYED}
        )
    [(_, kept)] = uow.idempotency.responses.values()
    assert (kept.status_code, kept.ids) == (201, {"note_id": UUID(first.json()["note_id"])})
    assert "Jordan" not in repr(uow.idempotency.responses)


async def test_work_that_returns_a_body_instead_of_ids_is_refused_and_nothing_is_kept() -> None:
    uow, effects = FakeUnitOfWork(), []
    async with build(uow, effects, []) as http:
        with pytest.raises(TypeError, match="ids only"):  # a programming error: ASGITransport raises it
            await http.post(f"{THING}/leaks", json={"text": "Jordan Doe"}, headers={**bearer(), **KEYED})
    assert uow.idempotency.responses == {} and uow.commits == 0


async def test_an_answer_with_its_own_status_is_replayed_with_that_status() -> None:
    uow, effects = FakeUnitOfWork(), []
    note = f"{THING}/notes/{uuid4()}"
    async with build(uow, effects, []) as http:
        made = await http.put(note, json={"text": "x"}, headers={**bearer(), "Idempotency-Key": "k-made"})
        there = await http.put(note, json={"text": "x"}, headers={**bearer(), "Idempotency-Key": "k-there"})
        made_again = await http.put(note, json={"text": "x"}, headers={**bearer(), "Idempotency-Key": "k-made"})
        there_again = await http.put(note, json={"text": "x"}, headers={**bearer(), "Idempotency-Key": "k-there"})
    assert [r.status_code for r in (made, there, made_again, there_again)] == [201, 200, 201, 200]
    assert made_again.json() == there_again.json() == there.json()  # the note as it stands: edited twice
    assert there.json()["count"] == 2 and effects == ["x", "x"]


async def test_a_first_answer_the_work_rendered_is_given_once_and_a_retry_reads_what_is_kept() -> None:
    uow, effects = FakeUnitOfWork(), []
    async with build(uow, effects, []) as http:
        first = await http.post(f"{THING}/told", json={"text": "every reason"}, headers={**bearer(), **KEYED})
        again = await http.post(f"{THING}/told", json={"text": "every reason"}, headers={**bearer(), **KEYED})
    note_id = first.json()["note_id"]
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == {"note_id": note_id, "told": "every reason"}
    assert again.json() == {"note_id": note_id, "thing": THING.rsplit("/", 1)[1], "text": "kept", "count": 1}
    assert effects == ["every reason"]
    [(_, kept)] = uow.idempotency.responses.values()
    assert kept.ids == {"note_id": UUID(note_id)} and "every reason" not in repr(uow.idempotency.responses)


async def test_an_answer_about_nothing_to_read_again_keeps_no_ids() -> None:
    uow, effects = FakeUnitOfWork(), []
    async with build(uow, effects, []) as http:
        first = await http.post(f"{THING}/queue", json={"text": "x"}, headers={**bearer(), **KEYED})
        again = await http.post(f"{THING}/queue", json={"text": "x"}, headers={**bearer(), **KEYED})
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json() == again.json() == {"queued": True}
    assert effects == ["x"]
    [(_, kept)] = uow.idempotency.responses.values()
    assert (kept.status_code, kept.ids) == (202, {})


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
