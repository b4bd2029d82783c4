"""docs/rms-integration.md runs as written: every example request, in document order, against the
real stack, each answering the status the guide shows after it (and at least the fields of the
answer it shows); its Python receiver serves for real, is registered as the endpoint, and hears
the callbacks the guide promises, each signature verified.

Words in double braces are filled from the guide's own token commands (minted with the
development key, as the other end-to-end tests do), the receiver's address, the current time, and
the ids earlier answers gave. A block the parser cannot read, or one without an expected status,
fails the test: none is skipped. A submission the guide shows waiting at King County's approval
gate is decided by the test as the jurisdiction's program manager (not an RMS step), so the
examples after it meet the referral the guide describes.
"""

import json
import queue
import re
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from divert_intake.service_layer.status_callbacks import CALLBACK_TYPES
from divert_local.callback_receiver import serve
from divert_local.stack import Stack
from divert_platform.auth import mint_token
from divert_platform.settings import ServiceSettings

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "rms-integration.md"

_FENCE = re.compile(r"^```(?P<lang>[a-z]*)\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_STATUS = re.compile(r"→ (?P<status>[1-5]\d\d) [A-Z][A-Za-z ]+$")
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_TOKEN_COMMAND = re.compile(
    r"divert token --role (?P<role>\w+) --agency (?P<agency>\S+) --jurisdiction (?P<jurisdiction>\S+)"
)
_RECEIVER_PATH = re.compile(r'@app\.post\("(?P<path>/[^"]*)"\)')
_TOKEN_PLACEHOLDERS = {"officer": "officer_token", "agency_admin": "admin_token"}
_CAPTURED = ("endpoint_id", "referral_id", "message_id", "secret")


class GuideError(ValueError):
    """The guide has an example the test cannot run as written."""


@dataclass(frozen=True)
class Request:
    """An ```http example, the status the guide says it answers, and the answer it shows (if any)."""

    line: int
    method: str
    target: str
    headers: dict[str, str]
    body: str | None
    status: int
    answer: Any = None


@dataclass(frozen=True)
class Receiver:
    """The guide's ```python receiver example."""

    line: int
    code: str
    path: str


@dataclass
class Guide:
    """The guide's runnable parts, in document order."""

    steps: list[Request | Receiver] = field(default_factory=list)
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)
    """Placeholder → the role, agency and jurisdiction its `divert token` command names."""
    callbacks: dict[str, Any] = field(default_factory=dict)
    """Callback type → the message body the guide shows for it."""
    types_named: set[str] = field(default_factory=set)
    """Every `referral.<kind>` the guide's table of callback types has a row for."""

    @property
    def requests(self) -> list[Request]:
        return [step for step in self.steps if isinstance(step, Request)]


def parse_guide(text: str) -> Guide:
    """The guide's example requests, receiver, token commands and callback bodies, in order."""
    guide = Guide()
    blocks = list(_FENCE.finditer(text))
    consumed: set[int] = set()  # blocks read as the answer shown after a request
    for index, block in enumerate(blocks):
        line = text.count("\n", 0, block.start()) + 1
        lang, body = block["lang"], block["body"]
        if index in consumed:
            continue
        if lang == "http":
            status, answer_block = _expected(text, block.end(), blocks[index + 1] if index + 1 < len(blocks) else None)
            answer = None
            if answer_block is not None:
                consumed.add(index + 1)
                answer = _json(answer_block["body"], text.count("\n", 0, answer_block.start()) + 1)
            guide.steps.append(_request(body, line, status, answer))
        elif lang == "python":
            if not (path := _RECEIVER_PATH.search(body)):
                raise GuideError(f"line {line}: the Python example serves no `@app.post(...)` route")
            guide.steps.append(Receiver(line, body, path["path"]))
        elif lang == "sh":
            for command in _TOKEN_COMMAND.finditer(body):
                placeholder = _TOKEN_PLACEHOLDERS.get(command["role"])
                if placeholder is None:
                    raise GuideError(f"line {line}: no placeholder for a {command['role']} token")
                guide.tokens[placeholder] = {k: command[k] for k in ("role", "agency", "jurisdiction")}
        elif lang == "json":
            shown = _json(body, line)
            if isinstance(shown, dict) and str(shown.get("type", "")).startswith("referral."):
                guide.callbacks[shown["type"]] = shown
        elif lang:
            raise GuideError(f"line {line}: a ```{lang} block the test does not know how to run")
    guide.types_named = set(re.findall(r"^\| `(referral\.\w+)` \|", text, re.MULTILINE))
    return guide


def _expected(text: str, after: int, next_block: re.Match[str] | None) -> tuple[int, re.Match[str] | None]:
    """The status on the first line after a request's block, and the ```json answer right below it."""
    rest = text[after:].lstrip("\n")
    first = rest.split("\n", 1)[0].strip()
    if not (status := _STATUS.fullmatch(first)):
        line = text.count("\n", 0, after) + 2
        raise GuideError(f"line {line}: an example request must be followed by `→ <status> <reason>`, not {first!r}")
    end_of_status = text.index(first, after) + len(first)
    shows_answer = (
        next_block is not None and next_block["lang"] == "json" and not text[end_of_status : next_block.start()].strip()
    )
    return int(status["status"]), next_block if shows_answer else None


def _request(block: str, line: int, status: int, answer: Any) -> Request:
    head, _, body = block.partition("\n\n")
    request_line, *header_lines = head.strip().split("\n")
    parts = request_line.split()
    if len(parts) != 2 or parts[0] not in ("GET", "POST", "PUT", "PATCH", "DELETE") or not parts[1].startswith("/"):
        raise GuideError(f"line {line}: the first line must be `METHOD /path`, not {request_line!r}")
    headers = {}
    for header in header_lines:
        name, colon, value = header.partition(":")
        if not colon or not name.strip() or not value.strip():
            raise GuideError(f"line {line}: {header!r} is not a `Name: value` header")
        headers[name.strip()] = value.strip()
    if body.strip():
        _json(body, line)  # a body must be JSON once filled in, and JSON already as shown
    return Request(line, parts[0], parts[1], headers, body.strip() or None, status, answer)


def _json(text: str, line: int) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise GuideError(f"line {line}: not JSON: {error}") from error


def fill(text: str, values: dict[str, str]) -> str:
    """`text` with every `{{name}}` replaced; a name with no value yet fails the test."""

    def value(match: re.Match[str]) -> str:
        name = match[1]
        if name == "now":
            # One instant for the whole guide: its retry example must send the first body again to
            # the second, or a second boundary between the two makes the same key another body (409).
            values.setdefault("now", (datetime.now(UTC) - timedelta(seconds=1)).astimezone().isoformat("T", "seconds"))
        if name not in values:
            raise GuideError(f"{{{{{name}}}}} is used before any answer gave it")
        return values[name]

    return _PLACEHOLDER.sub(value, text)


def missing_fields(shown: Any, real: Any, at: str = "") -> list[str]:
    """Fields the guide shows that the real answer lacks (values are the guide's own examples)."""
    if isinstance(shown, dict):
        if not isinstance(real, dict):
            return [at or "(the answer)"]
        return [
            miss
            for key, value in shown.items()
            for miss in ([f"{at}{key}"] if key not in real else missing_fields(value, real[key], f"{at}{key}."))
        ]
    if isinstance(shown, list) and shown and isinstance(real, list) and real:
        return missing_fields(shown[0], real[0], f"{at}0.")
    return []


# The parser itself: a block without an expected status, or one it cannot read, is an error.


def test_the_guide_parses_and_every_example_request_has_an_expected_status() -> None:
    guide = parse_guide(GUIDE.read_text())

    assert len(guide.requests) >= 10, [request.target for request in guide.requests]
    assert [type(step) for step in guide.steps].count(Receiver) == 1
    assert set(guide.tokens) == {"officer_token", "admin_token"}
    assert guide.types_named == set(CALLBACK_TYPES), "the table of callback types must name each type once"
    shown = {(request.method, request.target.split("?")[0]) for request in guide.requests}
    for route in (
        ("POST", "/v1/callback-endpoints"),
        ("POST", "/v1/referrals"),
        ("GET", "/v1/referrals/{{referral_id}}"),
        ("POST", "/v1/callback-endpoints/{{endpoint_id}}/messages/{{message_id}}/redelivery"),
        ("POST", "/v1/referrals/{{referral_id}}/withdrawal"),
    ):
        assert route in shown, f"the guide shows no {route}"


@pytest.mark.parametrize(
    "broken",
    [
        "```http\nGET /v1/referrals\nAuthorization: Bearer x\n```\n\nno status here\n",
        "```http\nGET /v1/referrals\n```\n",
        "```http\nFETCH it\n```\n\n→ 200 OK\n",
        "```http\nPOST /v1/referrals\n\n{not json\n```\n\n→ 201 Created\n",
        "```http\nGET /v1/referrals\n```\n\n→ 200 OK\n\n```json\n{broken\n```\n",
        "```ruby\nputs 1\n```\n",
    ],
)
def test_a_block_that_cannot_run_as_written_fails_the_parse(broken: str) -> None:
    with pytest.raises(GuideError):
        parse_guide(broken)


# The guide against the stack.


class ReceiverUnderTest:
    """The guide's receiver, executed from the guide's text and served on a free port."""

    def __init__(self, example: Receiver, secret: str, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("WEBHOOK_SECRET", secret)
        self.module = types.ModuleType("rms_guide_receiver")
        # The guide's own example, as written: what an integrator copies is what runs.
        exec(compile(example.code, f"{GUIDE.name}:{example.line}", "exec"), self.module.__dict__)
        self.taken: list[dict[str, Any]] = []

    def drain(self) -> list[dict[str, Any]]:
        """Every message the receiver handed to its queue so far."""
        inbox: queue.Queue[dict[str, Any]] = self.module.inbox
        while True:
            try:
                self.taken.append(inbox.get_nowait())
            except queue.Empty:
                return self.taken

    def of(self, event_type: str, referral_id: str | None = None) -> list[dict[str, Any]]:
        return [
            message
            for message in self.drain()
            if message["type"] == event_type and referral_id in (None, message["data"]["referral_id"])
        ]


def eventually(what: str, probe: Callable[[], Any], within: float = 60.0) -> Any:
    """Poll `probe` until it returns something truthy."""
    deadline = time.monotonic() + within
    while not (result := probe()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:.0f}s waiting for {what}")
        time.sleep(0.3)
    return result


# The callbacks the walk through the guide brings about, whose bodies the guide may show.
_WALKED_TYPES = {"referral.accepted", "referral.declined", "referral.withdrawn"}


def test_every_example_of_the_guide_runs_against_the_stack(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    guide = parse_guide(GUIDE.read_text())
    settings = ServiceSettings()
    values = {
        placeholder: mint_token(settings, subject=f"{claims['role']}-rms-guide", **claims)
        for placeholder, claims in guide.tokens.items()
    }
    example = next(step for step in guide.steps if isinstance(step, Receiver))
    deferred = _Deferred()
    # Served (its port bound) before the registration, so the endpoint's URL is known when needed.
    with serve(deferred) as base_url, httpx.Client(base_url=stack.url("intake"), timeout=15) as http:
        values["callback_url"] = base_url + example.path
        receiver = _walk(guide, http, values, deferred, monkeypatch)

        referral_id = values["referral_id"]
        accepted = eventually("referral.accepted", lambda: receiver.of("referral.accepted", referral_id))
        withdrawn = eventually("referral.withdrawn", lambda: receiver.of("referral.withdrawn", referral_id))
        eventually("referral.declined", lambda: receiver.of("referral.declined"))
        assert withdrawn[0]["data"]["sequence"] > accepted[0]["data"]["sequence"]
        assert set(guide.callbacks) <= _WALKED_TYPES, "a callback body the walk cannot check: extend the test"
        assert "referral.accepted" in guide.callbacks, "the guide shows no callback body"
        for event_type, shown in guide.callbacks.items():
            real = (receiver.of(event_type, referral_id) or receiver.of(event_type))[0]
            assert not missing_fields(shown, real), f"{event_type}: the body lacks {missing_fields(shown, real)}"

        _the_redelivery_went_out_again(http, values)
        assert len(receiver.of("referral.accepted", referral_id)) == 1, "a redelivery was taken twice"
        _a_forged_message_is_refused(values["callback_url"], receiver)


def _walk(
    guide: Guide,
    http: httpx.Client,
    values: dict[str, str],
    deferred: "_Deferred",
    monkeypatch: pytest.MonkeyPatch,
) -> ReceiverUnderTest:
    """Run every step of the guide in order; returns its receiver, serving behind `deferred`."""
    receiver: ReceiverUnderTest | None = None
    decided: set[str] = set()
    for step in guide.steps:
        if isinstance(step, Receiver):
            assert "secret" in values, "the guide runs its receiver before any answer gave a secret"
            receiver = ReceiverUnderTest(step, values["secret"], monkeypatch)
            deferred.app = receiver.module.app
            continue
        if "/messages" in step.target and receiver is not None:
            # The guide lists what was sent once it was sent: the accepted referral's callback.
            eventually(
                "the referral.accepted callback", partial(receiver.of, "referral.accepted", values["referral_id"])
            )
        answer = _send(http, step, values)
        assert answer.status_code == step.status, (
            f"line {step.line}: {step.method} {step.target} answered {answer.status_code}, the guide says "
            f"{step.status}: {answer.text}"
        )
        body = answer.json() if answer.content else None
        if step.answer is not None:
            missing = missing_fields(step.answer, body)
            assert not missing, f"line {step.line}: the answer lacks {missing}, which the guide shows: {body}"
        _capture(body, values)
        if isinstance(body, dict) and body.get("status") == "pending_approval" and body["referral_id"] not in decided:
            _decide_as_the_approver(http, body)
            decided.add(body["referral_id"])
    assert receiver is not None, "the guide has no receiver example"
    assert decided, "the guide shows no referral waiting for approval"
    return receiver


def _decide_as_the_approver(http: httpx.Client, waiting: dict[str, Any]) -> None:
    """The program manager's decision the guide describes: approve what the rules recommend, deny
    the rest. The accepted referral's assessment window starts now."""
    manager = mint_token(
        ServiceSettings(), subject="pm-rms-guide", role="program_manager", jurisdiction=waiting["jurisdiction"]
    )
    eligible = waiting["decision"]["eligible"]
    answer = http.post(
        f"/v1/referrals/{waiting['referral_id']}/approval",
        json={
            "decision": "approve" if eligible else "deny",
            "reason_code": "meets_criteria" if eligible else "not_program_appropriate",
        },
        headers={"Authorization": f"Bearer {manager}", "Idempotency-Key": str(uuid4())},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == ("accepted" if eligible else "declined"), answer.text


def _send(http: httpx.Client, step: Request, values: dict[str, str]) -> httpx.Response:
    headers = {name: fill(value, values) for name, value in step.headers.items()}
    content = fill(step.body, values).encode() if step.body is not None else None
    return http.request(step.method, fill(step.target, values), headers=headers, content=content)


def _capture(body: Any, values: dict[str, str]) -> None:
    """Keep the ids (and the newest secret) an answer gives, for the placeholders of later examples."""
    if not isinstance(body, dict):
        return
    items = body.get("items") or [{}]
    for name in _CAPTURED:
        found = body.get(name) or (body.get("endpoint") or {}).get(name) or items[0].get(name)
        if found and (name == "secret" or name not in values):
            values[name] = str(found)


def _the_redelivery_went_out_again(http: httpx.Client, values: dict[str, str]) -> None:
    """The redelivered message reached the receiver a second time (which took it only once)."""
    admin = {"Authorization": f"Bearer {values['admin_token']}"}
    url = f"/v1/callback-endpoints/{values['endpoint_id']}/messages/{values['message_id']}"

    def delivered_twice() -> bool:
        attempts = http.get(url, headers=admin).json()["attempts_made"]
        return [attempt["outcome"] for attempt in attempts].count("delivered") >= 2

    eventually("the redelivery of the accepted message", delivered_twice)


def _a_forged_message_is_refused(url: str, receiver: ReceiverUnderTest) -> None:
    """The guide's receiver verifies: a message signed with another secret is a 400 and goes nowhere."""
    before = len(receiver.drain())
    forged = '{"type":"referral.withdrawn","timestamp":"2026-01-01T00:00:00Z","data":{"referral_id":"x","sequence":99}}'
    headers = {
        "content-type": "application/json",
        "webhook-id": "msg_forged",
        "webhook-timestamp": str(int(time.time())),
        "webhook-signature": "v1,bm90IGEgc2lnbmF0dXJlIG9mIERpdmVydCdz",
    }
    assert httpx.post(url, content=forged, headers=headers, timeout=10).status_code == 400
    assert len(receiver.drain()) == before


class _Deferred:
    """An ASGI app that forwards to the guide's app once it exists (503 before: Divert retries)."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.app is not None:
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b""})
