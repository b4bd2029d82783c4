"""Signing in and out, and what a session lets a browser do: each role lands on its home, another
role's page is a 403 page, a missing or forged session goes to the sign-in page, and a form posted
without its CSRF token does nothing."""

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext

from tests.browser.pages import IDENTITIES, Console


@pytest.mark.parametrize("role", list(IDENTITIES))
def test_each_role_lands_on_its_home(console: Console, role: str) -> None:
    identity = console.sign_in(role, check=True)
    console.check("home")
    nav = console.page.get_by_role("navigation")
    assert nav.count() >= 1, "every page has its navigation"
    assert console.page.get_by_role("button", name="Sign out").is_visible()
    assert identity.home in [link.get_attribute("href") for link in nav.get_by_role("link").all()]


@pytest.mark.parametrize(
    ("role", "not_theirs"),
    [
        ("case_manager", "/dashboard"),
        ("prosecutor", "/cases"),
        ("ops", "/lapses"),
        ("court", "/journey"),
        ("program_manager", "/cases"),
    ],
)
def test_another_roles_page_is_refused_with_a_page(console: Console, role: str, not_theirs: str) -> None:
    console.sign_in(role)
    console.visit(not_theirs, "refused", status=403)
    assert "not part of your role" in console.page.locator("main").inner_text()
    # A refusal, not a crash or a sign-out: the way home is on the page and the session still holds.
    with console.page.expect_navigation():
        console.page.get_by_role("link", name="Back to your start page").click()
    assert console.path.startswith(IDENTITIES[role].home), console.path


def test_sign_out_ends_the_session(console: Console) -> None:
    console.sign_in("case_manager")
    console.sign_out()
    assert console.path.startswith("/sign-in"), console.path
    console.check("signed-out")
    response = console.page.goto(console.url("/cases"))
    assert response is not None
    assert console.path.startswith("/sign-in"), f"after sign-out /cases showed {console.path}"


@pytest.mark.parametrize("page", ["/dashboard", "/cases", "/lapses", "/journey"])
def test_without_a_session_every_page_goes_to_sign_in(console: Console, page: str) -> None:
    console.page.goto(console.url(page))
    assert console.path.startswith("/sign-in"), f"{page} without a session showed {console.path}"


def test_a_forged_session_goes_to_sign_in(console: Console, context: BrowserContext) -> None:
    console.sign_in("program_manager")
    [cookie] = [c for c in context.cookies() if "session" in c["name"]]
    assert cookie["httpOnly"], "the session cookie is out of scripts' reach"
    forged = cookie["value"][:-8] + ("A" * 8 if not cookie["value"].endswith("A" * 8) else "B" * 8)
    context.clear_cookies()
    context.add_cookies([{**cookie, "value": forged}])
    console.page.goto(console.url("/dashboard"))
    assert console.path.startswith("/sign-in"), f"a forged session showed {console.path}"
    context.clear_cookies()
    context.add_cookies([{**cookie, "value": "not-a-session"}])
    console.page.goto(console.url("/dashboard"))
    assert console.path.startswith("/sign-in")


def test_a_form_without_its_csrf_token_is_refused(console: Console, context: BrowserContext) -> None:
    console.sign_in("case_manager")
    # The same session's cookie goes with these requests; only the CSRF token is missing or wrong.
    for form in ({}, {"csrf_token": "guessed"}):
        refused = context.request.post(console.url("/sign-out"), form=form, max_redirects=0)
        assert refused.status == 403, f"sign-out posted with {form} answered {refused.status}"
    # Nothing happened: still signed in.
    console.page.goto(console.url("/cases"))
    assert console.path.startswith("/cases"), console.path


def test_each_role_signs_in_alone(new_console: Callable[[], Console]) -> None:
    """Two people at once in two browsers: each sees their own home."""
    first, second = new_console(), new_console()
    first.sign_in("program_manager")
    second.sign_in("case_manager")
    first.page.reload()
    assert first.path.startswith("/dashboard") and second.path.startswith("/cases")
