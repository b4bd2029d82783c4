"""Problem details: every error is application/problem+json and names what is wrong."""

import httpx
from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from divert_platform.problems import Conflict, install_problem_handlers


class Body(BaseModel):
    name: str


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/things")
    async def create(body: Body) -> dict[str, str]:
        if body.name == "taken":
            raise Conflict("name already taken", current_state="exists")
        if body.name == "boom":
            raise RuntimeError("a bug")
        return {"name": body.name}

    return app


async def _post(**kwargs) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=_app(), raise_app_exceptions=False), base_url="http://t"
    ) as http:
        return await http.post("/things", **kwargs)


async def test_validation_errors_name_the_field() -> None:
    response = await _post(json={})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "body.name"


async def test_domain_problems_keep_their_extensions() -> None:
    response = await _post(json={"name": "taken"})
    assert response.status_code == 409
    assert response.json() | {} == {
        "type": "https://divert.example/problems/conflict",
        "title": "Conflict",
        "status": 409,
        "detail": "name already taken",
        "current_state": "exists",
    }


async def test_unexpected_errors_are_500_problems_without_internals() -> None:
    response = await _post(json={"name": "boom"})
    assert response.status_code == 500
    assert "a bug" not in response.text and response.json()["status"] == 500


async def test_a_request_that_waits_out_the_connection_pool_is_a_503_with_retry_after(tmp_path) -> None:
    # A real pool of one connection, held by another request's work, and a short wait for it.
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'busy.db'}", pool_size=1, max_overflow=0, pool_timeout=0.1
    )
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/count")
    async def count() -> dict[str, int]:
        async with engine.connect() as connection:
            return {"one": (await connection.execute(text("SELECT 1"))).scalar_one()}

    async with engine.connect():  # the only connection, busy for the whole request
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://t"
        ) as http:
            response = await http.get("/count")
    await engine.dispose()

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "1"
    assert response.json()["type"].endswith("/unavailable")
