"""A status-callback receiver for `make demo`: what an RMS runs to hear of its referrals' changes.

A tiny ASGI app that verifies each request with a Standard Webhooks library (`standardwebhooks`,
as docs/rms-integration.md tells integrators to) and keeps what it received, and `serve`, which
runs any ASGI app on a free loopback port in a background thread until the block ends.
"""

import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from standardwebhooks import Webhook, WebhookVerificationError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_BODY = 1_000_000
"""A callback is a few hundred bytes; anything far larger is not one."""


@dataclass(frozen=True)
class Callback:
    """One message as it arrived: its `webhook-id`, what it says, and whether its signature held."""

    message_id: str
    verified: bool
    event_type: str | None = None
    referral_id: str | None = None
    sequence: int | None = None
    payload: Any = None


class CallbackReceiver:
    """An ASGI app taking Divert's signed callbacks at `path`.

    It answers 503 until `secret` is set (Divert retries), 400 to a message whose signature does
    not verify, and 204 to every verified one — once per `webhook-id`: a retry or redelivery of
    a message already taken is counted in `repeats`, not kept twice.
    """

    def __init__(self, path: str = "/callbacks") -> None:
        self.path = path
        self.secret: str | None = None
        self.received: list[Callback] = []
        self.repeats = 0
        self._lock = threading.Lock()

    def verified(self, event_type: str | None = None, referral_id: str | None = None) -> list[Callback]:
        """The verified messages so far, of `event_type` and `referral_id` when given."""
        with self._lock:
            return [
                callback
                for callback in self.received
                if callback.verified
                and (event_type is None or callback.event_type == event_type)
                and (referral_id is None or callback.referral_id == referral_id)
            ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] != self.path:
            await _answer(send, 404)
            return
        if scope["method"] != "POST":
            await _answer(send, 405)
            return
        body = await _body(receive)
        if body is None:
            await _answer(send, 413)
            return
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        await _answer(send, self._take(body, headers))

    def _take(self, body: bytes, headers: dict[str, str]) -> int:
        secret, message_id = self.secret, headers.get("webhook-id", "")
        if secret is None:
            return 503  # not registered yet: Divert tries again in a few seconds
        try:
            message = Webhook(secret).verify(body, headers)
        except WebhookVerificationError:
            with self._lock:
                self.received.append(Callback(message_id, verified=False))
            return 400
        data = message.get("data") or {}
        callback = Callback(
            message_id,
            verified=True,
            event_type=message.get("type"),
            referral_id=data.get("referral_id"),
            sequence=data.get("sequence"),
            payload=message,
        )
        with self._lock:
            if any(seen.verified and seen.message_id == message_id for seen in self.received):
                self.repeats += 1
            else:
                self.received.append(callback)
        return 204


async def _body(receive: Receive) -> bytes | None:
    """The request's body, or None once it grows past `MAX_BODY`."""
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if len(body) > MAX_BODY:
            return None
    return body


async def _answer(send: Send, status: int) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


@contextmanager
def serve(app: Any, *, start_timeout: float = 10.0) -> Iterator[str]:
    """Serve the ASGI `app` on a free port of 127.0.0.1 in a background thread; yields its base URL
    (`http://127.0.0.1:<port>`) and stops the server when the block ends."""
    listener = socket.socket()
    # Bound before the server starts, so the port is known (and held) with no race for it.
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, name="callback-receiver", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + start_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the callback receiver did not start on port {port}")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=start_timeout)
        listener.close()
