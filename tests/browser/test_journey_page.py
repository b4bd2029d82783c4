"""The on-call engineer's referral journey: a real referral's spans from several services, and a
link to its deadline workflow in Temporal's UI."""

from collections.abc import Callable

import httpx
from playwright.sync_api import expect

from divert_local.journey import wait_for
from tests.browser.pages import Console


def _services_shown(console: Console, referral_id: str) -> set[str]:
    console.page.goto(console.url(f"/journey?referral_id={referral_id}"))
    shown = console.page.locator("table.spans tbody tr td:first-child").all_inner_texts()
    # A span's service is shown as `<service.name>/<role>`: compare services, not their processes.
    return {text.strip().split("/")[0].removeprefix("divert-") for text in shown}


def test_a_referrals_journey_across_services(console: Console, refer: Callable[..., str]) -> None:
    referral_id = refer("Jordan")
    console.sign_in("ops", check=False)
    console.check("journey-ask")

    # Asked through the page's own form, as the engineer would.
    console.page.get_by_label("Referral id").fill(referral_id)
    with console.page.expect_navigation():
        console.page.get_by_role("button", name="Show the journey").click()
    assert console.path == f"/journey?referral_id={referral_id}"
    # Spans are exported in batches, each process on its own schedule: wait for intake's (the
    # referral's POST) and at least one other service's (reading or acting on its events).
    services = wait_for(
        "spans of the referral from intake and another service",
        lambda: found if len(found := _services_shown(console, referral_id)) > 1 and "intake" in found else None,
        timeout=60,
    )
    assert "intake" in services and len(services) > 1, services
    link = console.page.locator("#temporal-link")
    href = link.get_attribute("href") or ""
    assert href.endswith(f"/workflows/referral-deadline-{referral_id}"), href
    # The stack runs Temporal's Web UI: the link leads to a page (fetched without the console's cookie).
    assert httpx.get(href, timeout=10).status_code == 200, href
    assert "Jordan" not in console.page.content(), "the journey shows nothing of the person"
    console.check("journey")


def test_a_bad_referral_id_is_named_next_to_the_field(console: Console) -> None:
    console.sign_in("ops")
    console.visit("/journey?referral_id=not-an-id", "journey-bad-id", status=422)
    field = console.page.get_by_label("Referral id")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(console.page.locator(f"[id='{field.get_attribute('aria-describedby')}']")).to_have_attribute("role", "alert")
