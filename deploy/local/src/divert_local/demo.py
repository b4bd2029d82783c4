"""`make demo`: two arrest diversions under the `demo` policy; one is assessed in time, one is
reminded about and then lapses. A callback receiver, registered as the demo police agency's
endpoint, hears of each change with a signature it verifies, as an RMS would."""

from collections.abc import Callable, Generator
from datetime import UTC, datetime
from functools import partial
from typing import Any
from uuid import uuid4

import httpx

from divert_local.callback_receiver import CallbackReceiver, serve
from divert_local.journey import DEMO_AGENCY, RoleTokens, assessment_of, demo_referral, json_if, wait_for
from divert_platform.auth import mint_token
from divert_platform.settings import ServiceSettings


def run_demo(*, intake: str, assessment: str, warrants: str, say: Callable[[str], None]) -> bool:
    """Run the demo against a running stack; returns False (after saying why) if a step fails."""
    receiver = CallbackReceiver()
    try:
        with (
            httpx.Client(timeout=10, auth=RoleTokens(intake=intake, assessment=assessment, warrants=warrants)) as http,
            serve(receiver) as receiver_url,
        ):
            endpoint_id = _register(http, intake, receiver, receiver_url + receiver.path, say)
            try:
                _walk(http, intake, assessment, warrants, _Callbacks(receiver, say), say)
            finally:
                # The receiver stops with the demo: nothing should keep calling its closed port.
                disabled = http.post(f"{intake}/v1/callback-endpoints/{endpoint_id}/disabling", auth=_admin())
            assert disabled.status_code == 200, (
                f"disabling the endpoint answered {disabled.status_code}: {disabled.text}"
            )
        say("→ callback endpoint disabled and receiver stopped")
    except (TimeoutError, AssertionError, RuntimeError, httpx.HTTPError) as error:
        say(f"✗ demo failed: {error}")
        return False
    say(
        "✓ demo complete: one referral assessed in time (no warrant), one reminded and lapsed (one warrant request); "
        f"{len(receiver.verified())} signed callbacks verified"
    )
    return True


class _Bearer(httpx.Auth):
    """Sends one token, whatever the client's own auth would send."""

    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


def _admin() -> httpx.Auth:
    """The demo police agency's integration administrator (role `agency_admin`)."""
    token = mint_token(
        ServiceSettings(), subject="agency-admin-demo", role="agency_admin", agency=DEMO_AGENCY, jurisdiction="demo"
    )
    return _Bearer(token)


def _register(http: httpx.Client, intake: str, receiver: CallbackReceiver, url: str, say: Callable[[str], None]) -> str:
    """Register `url` as the demo agency's callback endpoint and hand its secret to `receiver`."""
    response = http.post(
        f"{intake}/v1/callback-endpoints",
        json={"url": url, "description": "make demo's callback receiver"},
        headers={"Idempotency-Key": str(uuid4())},
        auth=_admin(),
    )
    assert response.status_code == 201, (
        f"registering the callback endpoint answered {response.status_code}: {response.text}"
    )
    endpoint = response.json()
    receiver.secret = endpoint["secret"]
    say(f"→ callback receiver at {url}, registered as {DEMO_AGENCY}'s endpoint {endpoint['endpoint_id']}")
    return str(endpoint["endpoint_id"])


class _Callbacks:
    """Waits for the receiver to hear of a change, and tells it."""

    def __init__(self, receiver: CallbackReceiver, say: Callable[[str], None]) -> None:
        self._receiver, self._say = receiver, say

    def heard(self, event_type: str, name: str, referral_id: str) -> None:
        """Wait until a verified `event_type` message about `name`'s referral has arrived, and say so."""
        wait_for(
            f"the {event_type} callback for {name}'s referral",
            lambda: self._receiver.verified(event_type, referral_id),
            timeout=30,
        )
        self._say(f"→ callback: {event_type} for {name}'s referral (signature verified)")


def _walk(
    http: httpx.Client,
    intake: str,
    assessment: str,
    warrants: str,
    callbacks: _Callbacks,
    say: Callable[[str], None],
) -> None:
    referrals = {}
    for name in ("Avery", "Blake"):
        response = http.post(
            f"{intake}/v1/referrals", json=demo_referral(name), headers={"Idempotency-Key": str(uuid4())}
        )
        assert response.status_code == 201, f"intake answered {response.status_code}: {response.text}"
        body = response.json()
        assert body["status"] == "accepted", f"referral not accepted: {body['decision']}"
        referrals[name] = body["referral_id"]
        say(f"→ referred {name}: {body['referral_id']} accepted, assessment due by {body['assessment_due_by']}")
    for name, referral_id in referrals.items():
        callbacks.heard("referral.accepted", name, referral_id)

    for name, referral_id in referrals.items():
        wait_for(f"the case of {name}", partial(_case_of, http, f"{assessment}/v1/cases/{referral_id}"), timeout=30)
        say(f"→ the case agency opened a case for {name}")

    avery = referrals["Avery"]
    response = http.post(f"{assessment}/v1/cases/{avery}/assessment", json=assessment_of(datetime.now(UTC)))
    assert response.status_code == 201, f"assessment answered {response.status_code}: {response.text}"
    say("→ Avery's assessment completed within the window")
    wait_for("intake to mark Avery assessed", lambda: _status(http, intake, avery) == "assessed", timeout=30)
    say("→ intake shows Avery as assessed; the deadline clock stopped")
    callbacks.heard("referral.assessed", "Avery", avery)

    blake = referrals["Blake"]
    say("… waiting for Blake's window (20 s) to close; the case agency is reminded 10 s before")
    reminded = wait_for(
        "the reminder about Blake's assessment",
        lambda: (_case_of(http, f"{assessment}/v1/cases/{blake}") or {}).get("last_reminder_at"),
        timeout=90,
    )
    say(f"→ reminder: the caseload marks Blake's case due soon (reminded at {reminded})")
    wait_for("Blake's referral to lapse", lambda: _status(http, intake, blake) == "lapsed", timeout=90)
    requests = wait_for(
        "the warrant request for Blake",
        lambda: (json_if(http.get(f"{warrants}/v1/warrant-requests", params={"referral_id": blake})) or {}).get(
            "items"
        ),
        timeout=30,
    )
    assert len(requests) == 1, f"expected one warrant request for Blake, found {len(requests)}"
    say(f"→ Blake's window lapsed: warrant request {requests[0]['warrant_request_id']} ({requests[0]['kind']})")
    callbacks.heard("referral.lapsed", "Blake", blake)
    callbacks.heard("referral.warrant_requested", "Blake", blake)
    for_avery = http.get(f"{warrants}/v1/warrant-requests", params={"referral_id": avery}).json()["items"]
    assert not for_avery, "a warrant was requested for Avery, who was assessed in time"
    say("→ no warrant request exists for Avery")


def _status(http: httpx.Client, intake: str, referral_id: str) -> str | None:
    body = json_if(http.get(f"{intake}/v1/referrals/{referral_id}"))
    return body["status"] if body else None


def _case_of(http: httpx.Client, url: str) -> Any:
    """The case at `url`, or None while it is not there yet."""
    return json_if(http.get(url))
