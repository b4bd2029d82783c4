"""`make demo`: two arrest diversions under the `demo` policy; one is assessed in time, one is
reminded about and then lapses."""

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any
from uuid import uuid4

import httpx

from divert_local.journey import RoleTokens, assessment_of, demo_referral, json_if, wait_for


def run_demo(*, intake: str, assessment: str, warrants: str, say: Callable[[str], None]) -> bool:
    """Run the demo against a running stack; returns False (after saying why) if a step fails."""
    try:
        with httpx.Client(timeout=10, auth=RoleTokens(intake=intake, assessment=assessment, warrants=warrants)) as http:
            _walk(http, intake, assessment, warrants, say)
    except (TimeoutError, AssertionError, httpx.HTTPError) as error:
        say(f"✗ demo failed: {error}")
        return False
    say("✓ demo complete: one referral assessed in time (no warrant), one reminded and lapsed (one warrant request)")
    return True


def _walk(http: httpx.Client, intake: str, assessment: str, warrants: str, say: Callable[[str], None]) -> None:
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
        wait_for(f"the case of {name}", partial(_case_of, http, f"{assessment}/v1/cases/{referral_id}"), timeout=30)
        say(f"→ the case agency opened a case for {name}")

    avery = referrals["Avery"]
    response = http.post(f"{assessment}/v1/cases/{avery}/assessment", json=assessment_of(datetime.now(UTC)))
    assert response.status_code == 201, f"assessment answered {response.status_code}: {response.text}"
    say("→ Avery's assessment completed within the window")
    wait_for("intake to mark Avery assessed", lambda: _status(http, intake, avery) == "assessed", timeout=30)
    say("→ intake shows Avery as assessed; the deadline clock stopped")

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
    for_avery = http.get(f"{warrants}/v1/warrant-requests", params={"referral_id": avery}).json()["items"]
    assert not for_avery, "a warrant was requested for Avery, who was assessed in time"
    say("→ no warrant request exists for Avery")


def _status(http: httpx.Client, intake: str, referral_id: str) -> str | None:
    body = json_if(http.get(f"{intake}/v1/referrals/{referral_id}"))
    return body["status"] if body else None


def _case_of(http: httpx.Client, url: str) -> Any:
    """The case at `url`, or None while it is not there yet."""
    return json_if(http.get(url))
