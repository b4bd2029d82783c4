"""One referral's journey through the public APIs, shared by `divert demo` and the e2e tests."""

import time
from collections.abc import Callable, Generator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx

from divert_platform.auth import mint_token
from divert_platform.settings import ServiceSettings

Poll = Callable[[], Any]

DEMO_AGENCY = "DEMO-PD"
DEMO_CASE_AGENCY = "demo-case-agency"


class RoleTokens(httpx.Auth):
    """Sends each request with the token of the person who would make it: an officer of the demo
    police agency to intake, a case manager of the demo case agency to assessment, the demo
    program manager to warrants. Tokens are minted with this deployment's development key."""

    def __init__(self, *, intake: str, assessment: str, warrants: str) -> None:
        settings = ServiceSettings()
        self._by_base_url = {
            intake: mint_token(
                settings, subject="officer-0001", role="officer", agency=DEMO_AGENCY, jurisdiction="demo"
            ),
            assessment: mint_token(settings, subject="cm-demo", role="case_manager", agency=DEMO_CASE_AGENCY),
            warrants: mint_token(settings, subject="pm-demo", role="program_manager", jurisdiction="demo"),
        }

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        for base_url, token in self._by_base_url.items():
            if str(request.url).startswith(base_url):
                request.headers["Authorization"] = f"Bearer {token}"
        yield request


def demo_referral(given_name: str, *, referred_at: datetime | None = None) -> dict[str, Any]:
    """A fictional arrest diversion under the `demo` policy (assessment window of seconds)."""
    referred_at = referred_at or datetime.now(UTC) - timedelta(seconds=1)
    return {
        "jurisdiction": "demo",
        "pathway": "arrest_diversion",
        "referred_at": referred_at.isoformat(),
        "rms": {"agency": DEMO_AGENCY, "case_number": f"D-{uuid4().hex[:8]}", "officer_id": "0001"},
        "subject": {
            "given_name": given_name,
            "family_name": "Example",
            "date_of_birth": "1990-01-01",
            "phone": "+15555550100",
        },
        "location": {"precinct": "Central", "neighborhood": "Downtown"},
        "offense": {"category": "drug_possession", "drug_quantity_grams": 0.5, "drug_type": "opioid"},
        "screening": {
            "amenable": True,
            "dealing_for_profit": False,
            "exploits_minors": False,
            "promotes_prostitution": False,
            "disqualifying_convictions": [],
            "on_state_probation": False,
            "in_treatment_court": False,
            "no_contact_order_with_participant": False,
        },
        "contact_drivers": ["drug_use"],
    }


def assessment_of(completed_at: datetime) -> dict[str, Any]:
    """An assessment with two needs, completed at `completed_at`."""
    return {
        "completed_at": completed_at.isoformat(),
        "case_manager_id": "cm-demo",
        "needs": [{"domain": "housing", "priority": 1}, {"domain": "substance_use_treatment", "priority": 2}],
    }


def wait_for(what: str, poll: Poll, *, timeout: float, interval: float = 0.5) -> Any:
    """Call `poll` until it returns something truthy; raise `TimeoutError` naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        result = poll()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def json_if(response: httpx.Response, status: int = 200) -> Any:
    """The response body when the status matches, else None (for polling)."""
    return response.json() if response.status_code == status else None
