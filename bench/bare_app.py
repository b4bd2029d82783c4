"""The ceiling for intake's API: a bare FastAPI endpoint, served exactly as Divert serves its APIs.

`python -m bench.bare_app PORT` runs uvicorn with the settings of `divert_platform.roles.serve_api`
(`log_config=None, access_log=False`, same host, uvloop and httptools where installed). The route
parses the same JSON body and answers 201, and does nothing else: no auth, database or tracing.
"""

import sys
from typing import Any

import uvicorn
from fastapi import Body, FastAPI

app = FastAPI(title="bench: bare endpoint")


@app.post("/v1/referrals", status_code=201)
async def accept(body: dict[str, Any] = Body()) -> dict[str, Any]:  # noqa: B008 - FastAPI's idiom
    """Parse the body and answer with a small document shaped like intake's."""
    return {"referral_id": "00000000-0000-0000-0000-000000000000", "status": "accepted", "fields": len(body)}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=None, access_log=False)
