"""The console's browser tier: Debian's Chromium driven by Playwright over the whole embedded stack.

Every page a test visits goes through `Console.visit`/`Console.check`: an axe-core scan (WCAG 2.1
A and AA) that must find nothing, a full-page screenshot at a desktop size and one at a phone's,
and a check that the page does not scroll sideways on the phone. Screenshots are the tier's
output, under build/browser/screenshots/ (git-ignored).

Chromium is Debian's package, never a browser Playwright downloads: where none is installed the
tier installs it with apt-get when it can, and otherwise fails saying how to install it.
"""

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from datetime import datetime
from uuid import uuid4

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Playwright, sync_playwright

from divert_local.journey import demo_referral, wait_for
from divert_local.stack import Ports, Stack
from tests.browser.pages import DESKTOP, JOURNEY_JURISDICTION, POLICE_AGENCY, SCREENSHOTS, Console, Identity, Tokens

INSTALL_COMMAND = "sudo apt-get update && sudo apt-get install -y chromium"

# --- Chromium and Playwright -----------------------------------------------------------------


def _find_chromium() -> str | None:
    found = shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium: found, or installed with apt-get when we are root, or the tier fails."""
    if found := _find_chromium():
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        for step in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
            done = subprocess.run(
                step, capture_output=True, text=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            )
            if done.returncode != 0:
                pytest.fail(
                    f"`{' '.join(step)}` failed ({done.returncode}): {done.stderr[-2000:]}\n"
                    f"install Chromium with: {INSTALL_COMMAND}"
                )
        if found := _find_chromium():
            return found
    # Never skip: a tier that silently does not run is a tier that does not exist.
    pytest.fail(f"the browser tier needs Debian's Chromium; install it with: {INSTALL_COMMAND}")


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """The sync Playwright API, one per test module. It runs its own event loop in this thread,
    marked as running for as long as Playwright is open: an async test after this tier (tests/deploy,
    bench/tests in `make test`) would find it and fail, so it is stopped when the module's tests end,
    never kept for the session. This tier's own tests and fixtures are all plain functions."""
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def browser(playwright: Playwright, chromium: str) -> Iterator[Browser]:
    # Chromium refuses to start its sandbox as root (containers, CI): only then is it turned off.
    # The pages it opens are our own console's, on localhost.
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    launched = playwright.chromium.launch(executable_path=chromium, headless=True, args=args)
    try:
        yield launched
    finally:
        launched.close()


@pytest.fixture(scope="session", autouse=True)
def screenshots() -> None:
    """This run's screenshots only: the last run's are removed first."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)


# --- The embedded stack ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole embedded system with the console, on free ports; with Temporal's Web UI, so that the
    journey page's link to a workflow leads somewhere."""
    running = Stack(data_dir=tmp_path_factory.mktemp("divert-browser"), ports=Ports.free(), ui=True)
    running.start()
    try:
        yield running
    finally:
        running.stop()
        assert running.processes == []


@pytest.fixture(scope="session")
def console_url(stack: Stack) -> str:
    url = stack.url("console")
    wait_for("the console to be ready", lambda: _ready(url), timeout=60)
    return url


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="session")
def tokens() -> Tokens:
    return Tokens()


@pytest.fixture(scope="session")
def refer(stack: Stack, tokens: Tokens) -> Callable[..., str]:
    """Submit an arrest diversion through intake's REST API as an officer's RMS would (as `divert
    demo` does); returns its referral id once accepted. Where the jurisdiction's policy sends
    referrals to an approver first (King County's since 2026-12-06), its program manager approves it."""

    def submit(
        given_name: str, *, jurisdiction: str = JOURNEY_JURISDICTION, referred_at: datetime | None = None
    ) -> str:
        referral = demo_referral(given_name, referred_at=referred_at)
        referral["jurisdiction"] = jurisdiction
        referral["rms"]["agency"] = POLICE_AGENCY[jurisdiction]
        intake = stack.url("intake")
        response = httpx.post(
            f"{intake}/v1/referrals",
            json=referral,
            headers={"Authorization": f"Bearer {tokens.officer(jurisdiction)}", "Idempotency-Key": str(uuid4())},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        body = response.json()
        if body["status"] == "pending_approval":
            approver = Identity("program_manager", "/dashboard", jurisdiction=jurisdiction, subject="pm-approver")
            with tokens.client(approver) as http:
                response = http.post(
                    f"{intake}/v1/referrals/{body['referral_id']}/approval",
                    json={"decision": "approve", "reason_code": "meets_criteria"},
                    headers={"Idempotency-Key": str(uuid4())},
                )
            assert response.status_code == 200, response.text
            body = response.json()
        assert body["status"] == "accepted", body
        return str(body["referral_id"])

    return submit


@pytest.fixture
def context(browser: Browser, console_url: str) -> Iterator[BrowserContext]:
    """A fresh browser context (no cookies) per test."""
    made = browser.new_context(viewport=DESKTOP, base_url=console_url)
    made.set_default_timeout(15_000)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def console(context: BrowserContext, console_url: str, request: pytest.FixtureRequest) -> Console:
    """A tab on the console for this test; screenshots are named after the test."""
    return Console(
        page=context.new_page(),
        base_url=console_url,
        test_name=request.node.name,
        record=lambda key, value: request.node.user_properties.append((key, value)),
    )


@pytest.fixture
def new_console(browser: Browser, console_url: str, request: pytest.FixtureRequest) -> Iterator[Callable[[], Console]]:
    """Another tab in another fresh context (a second user, or no session at all)."""
    made: list[BrowserContext] = []

    def open_one() -> Console:
        context = browser.new_context(viewport=DESKTOP, base_url=console_url)
        context.set_default_timeout(15_000)
        made.append(context)
        return Console(
            page=context.new_page(),
            base_url=console_url,
            test_name=request.node.name,
            record=lambda key, value: request.node.user_properties.append((key, value)),
        )

    yield open_one
    for context in made:
        context.close()
