"""Problem details: every error is application/problem+json and names what is wrong."""

import httpx
from fastapi import FastAPI
from pydantic import BaseModel

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
