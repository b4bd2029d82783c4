"""The session: a dict kept in one encrypted, signed cookie (Fernet), so no server keeps state.

It holds the signed-in user's API token, so it must be unreadable (encrypted), unforgeable (signed)
and short-lived (Fernet's timestamp is checked against the session's lifetime). The cookie is
`HttpOnly` (no script reads it), `SameSite=Lax` (other sites' forms do not carry it) and, outside
development, `Secure` under the `__Host-` prefix (only this origin, only over https).
"""

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_COOKIE_BYTES = 4000
"""Browsers keep cookies of about 4 KB; a session that outgrows it is dropped, never cut."""


class EncryptedSession:
    """ASGI middleware giving `request.session` (a dict) from, and back into, an encrypted cookie."""

    def __init__(self, app: ASGIApp, *, key: str, max_age_seconds: int, secure: bool) -> None:
        self.app = app
        self.fernet = Fernet(key.encode())
        self.max_age = max_age_seconds
        self.secure = secure
        self.cookie = "__Host-divert_session" if secure else "divert_session"

    def load(self, raw: str | None) -> dict[str, Any]:
        """The session a cookie holds; empty if it is absent, forged, tampered with or too old."""
        if not raw:
            return {}
        try:
            value = json.loads(self.fernet.decrypt(raw.encode(), ttl=self.max_age))
        except (InvalidToken, ValueError):
            return {}
        return value if isinstance(value, dict) else {}

    def dump(self, session: dict[str, Any]) -> str:
        """The cookie value for a session."""
        return self.fernet.encrypt(json.dumps(session, separators=(",", ":")).encode()).decode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = HTTPConnection(scope).cookies.get(self.cookie)
        scope["session"] = self.load(raw)
        before = json.dumps(scope["session"], sort_keys=True)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                session = scope["session"]
                changed = json.dumps(session, sort_keys=True) != before
                if changed or (raw and not session):
                    MutableHeaders(scope=message).append("Set-Cookie", self._cookie_header(session))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _cookie_header(self, session: dict[str, Any]) -> str:
        value = self.dump(session) if session else ""
        if len(value) > MAX_COOKIE_BYTES:
            value = ""  # a browser would drop it silently; dropping it here signs the user out visibly
        max_age = self.max_age if value else 0
        flags = "; Secure" if self.secure else ""
        return f"{self.cookie}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{flags}"
