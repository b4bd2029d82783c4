"""What the browser tier's tests share: who signs in as what, and a tab on the console that checks
every page it shows (axe-core, screenshots at desktop and phone sizes, no sideways scrolling)."""

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page, Response

from divert_platform.auth import mint_token
from divert_platform.settings import DEFAULT_CASE_AGENCIES, ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "browser" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
DOCS_IMAGES = ROOT / "docs" / "images"
UPDATE_SCREENSHOTS = "DIVERT_UPDATE_SCREENSHOTS"
"""Set to 1 to copy the README's screenshots into docs/images/ (normal runs leave the tree alone)."""
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# The identities the tests sign in as (development sign-in): the shipped jurisdictions and the case
# agencies serving them (DEFAULT_CASE_AGENCIES). King County's window is 30 days, so a case there
# does not lapse while a test walks it; the `demo` policy's is 20 seconds, so a lapse comes quickly.
JOURNEY_JURISDICTION = "king-county"
LAPSE_JURISDICTION = "demo"
POLICE_AGENCY = {JOURNEY_JURISDICTION: "KC-SHERIFF", LAPSE_JURISDICTION: "DEMO-PD"}


@dataclass(frozen=True)
class Identity:
    """Who the development sign-in page is told the user is, and where the role lands."""

    role: str
    home: str
    agency: str = ""
    jurisdiction: str = ""
    subject: str = ""


IDENTITIES: dict[str, Identity] = {
    "program_manager": Identity("program_manager", "/dashboard", jurisdiction=JOURNEY_JURISDICTION, subject="pm-1"),
    "case_manager": Identity(
        "case_manager",
        "/cases",
        agency=DEFAULT_CASE_AGENCIES[JOURNEY_JURISDICTION],
        jurisdiction=JOURNEY_JURISDICTION,
        subject="cm-1",
    ),
    "prosecutor": Identity("prosecutor", "/lapses", jurisdiction=LAPSE_JURISDICTION, subject="pa-1"),
    "court": Identity("court", "/lapses", jurisdiction=LAPSE_JURISDICTION, subject="court-1"),
    "ops": Identity("ops", "/journey", subject="ops-1"),
    "evaluator": Identity("evaluator", "/evaluation", jurisdiction=JOURNEY_JURISDICTION, subject="eval-1"),
}


class Tokens:
    """Development bearer tokens, minted with the stack's development key (as `divert token` does)."""

    def __init__(self) -> None:
        self._settings = ServiceSettings()

    def of(self, identity: Identity) -> str:
        return mint_token(
            self._settings,
            subject=identity.subject or f"{identity.role}-test",
            role=identity.role,
            agency=identity.agency or None,
            jurisdiction=identity.jurisdiction or None,
        )

    def officer(self, jurisdiction: str) -> str:
        return mint_token(
            self._settings,
            subject="officer-0001",
            role="officer",
            agency=POLICE_AGENCY[jurisdiction],
            jurisdiction=jurisdiction,
        )

    def client(self, identity: Identity) -> httpx.Client:
        return httpx.Client(timeout=10, headers={"Authorization": f"Bearer {self.of(identity)}"})


# --- Pages: axe, screenshots, phone ------------------------------------------------------------


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:120]


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now."""
    options = {"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]}
    return list(Axe().run(page, options=options).response["violations"])


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        lines += [f"    at {', '.join(map(str, node['target']))}" for node in violation["nodes"]]
    return "\n".join(lines)


@dataclass
class Console:
    """A signed-in (or not) browser tab on the console, and the test it serves."""

    page: Page
    base_url: str
    test_name: str
    record: Callable[[str, object], None]
    shots: list[Path] = field(default_factory=list)

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base_url}{path}"

    @property
    def path(self) -> str:
        """The path (and query) of the page shown now."""
        return self.page.url.removeprefix(self.base_url)

    def visit(self, path: str, name: str, *, status: int = 200) -> Response:
        """Open `path`, expect `status`, and check the page (`check`)."""
        response = self.page.goto(self.url(path))
        assert response is not None, f"no response for {path}"
        assert response.status == status, (
            f"{path} answered {response.status}, not {status}: {self.page.content()[:2000]}"
        )
        self.check(name)
        return response

    def check(self, name: str) -> None:
        """The page shown now: one <main> with one <h1>, no axe violation, screenshots at a desktop
        and a phone size, and no sideways scrolling on the phone."""
        page = self.page
        page.wait_for_load_state("load")
        assert page.locator("main").count() == 1, f"{name}: a page has exactly one <main>"
        assert page.locator("h1").count() == 1, f"{name}: a page has exactly one <h1>"
        violations = axe_violations(page)
        assert not violations, f"{name} ({self.path}): axe found WCAG 2.1 AA violations:\n{describe(violations)}"
        self._screenshot(name)
        page.set_viewport_size(PHONE)
        try:
            self._screenshot(f"{name}-phone")
            widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert widths[0] <= widths[1], (
                f"{name} ({self.path}) scrolls sideways on a phone: {widths[0]}px wide in a {widths[1]}px viewport"
            )
            phone = axe_violations(page)  # reflow can bring its own (target sizes, overlaps)
            assert not phone, f"{name} on a phone: axe found WCAG 2.1 AA violations:\n{describe(phone)}"
        finally:
            page.set_viewport_size(DESKTOP)

    def _screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{_slug(self.test_name)}-{_slug(name)}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        self.record("screenshot", str(path.relative_to(ROOT)))
        return path

    def publish(self, name: str, as_: str) -> None:
        """Save what a desktop screen shows of page `name` (checked first) as docs/images/`as_`, the
        README's screenshot, when DIVERT_UPDATE_SCREENSHOTS=1: a screen, not the whole page, so it
        reads at the README's width."""
        if os.environ.get(UPDATE_SCREENSHOTS) != "1":
            return
        shot = SCREENSHOTS / f"{_slug(self.test_name)}-{_slug(name)}.png"
        assert shot in self.shots, f"{name} was not checked before it is published"
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(DOCS_IMAGES / as_), full_page=False)

    # Signing in and out through the pages themselves.

    def sign_in(self, who: str | Identity, *, check: bool = False) -> Identity:
        """Sign in through the development sign-in page; lands on the role's home."""
        identity = IDENTITIES[who] if isinstance(who, str) else who
        self.page.goto(self.url("/sign-in"))
        if check:
            self.check("sign-in")
        form = self.page.locator("form", has=self.page.get_by_label("Role"))
        form.get_by_label("Role").select_option(identity.role)
        form.get_by_label("Agency").fill(identity.agency)
        form.get_by_label("Jurisdiction").fill(identity.jurisdiction)
        form.get_by_label("Your name or id").fill(identity.subject or f"{identity.role}-test")
        with self.page.expect_navigation():
            form.get_by_role("button", name="Sign in").click()
        assert self.path.split("?")[0] == identity.home, f"{identity.role} landed on {self.path}, not {identity.home}"
        return identity

    def sign_out(self) -> None:
        with self.page.expect_navigation():
            self.page.get_by_role("button", name="Sign out").click()

    def submit(self, heading: str, fields: dict[str, str | bool] | None = None) -> Response:
        """Fill the form under the heading `heading` and submit it with its button: no script of ours,
        the browser posts the form and follows the redirect. `fields` are by label (or by CSS selector,
        starting with `#`); the answer to the POST (or the page it redirected to) is returned."""
        form = self.form(heading)
        for label, value in (fields or {}).items():
            control = form.locator(label) if label.startswith("#") else form.get_by_label(label, exact=True)
            kind = control.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
            if kind.startswith("select"):
                control.select_option(str(value))
            elif kind in ("input:checkbox", "input:radio"):
                control.set_checked(bool(value))
            else:
                control.fill(str(value))
        with self.page.expect_navigation() as navigation:
            form.locator("[type=submit]").first.click()
        response = navigation.value
        assert response is not None
        return response

    def form_data(self, heading: str) -> dict[str, str]:
        """What the form under `heading` would post now (hidden fields included)."""
        return dict(self.form(heading).evaluate("f => Object.fromEntries(new FormData(f))"))

    def form_action(self, heading: str) -> str:
        return self.url(str(self.form(heading).get_attribute("action")))

    def status_message(self) -> str:
        """The status message a step left (role=status)."""
        return self.page.get_by_role("status").inner_text()

    def form(self, heading: str) -> Locator:
        """The <form> under (or labelled by) the heading `heading`."""
        named = self.page.locator("form", has=self.page.get_by_role("heading", name=heading, exact=True))
        if named.count() == 1:
            return named
        section = self.page.locator("section", has=self.page.get_by_role("heading", name=heading, exact=True))
        return section.locator("form").first
