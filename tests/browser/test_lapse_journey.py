"""From a lapsed assessment window to the prosecutor's recorded outcome, in the lapse queue's pages.

Two arrest diversions are referred under the `demo` policy (a window of 20 seconds) and left to
lapse; the officer then withdraws one, which rescinds its warrant request. The prosecutor sees both
in the lapse queue (the rescinded one marked "Do not file"), opens the other, acknowledges it and
records the outcome; the warrants API holds what the page did.
"""

from collections.abc import Callable
from typing import Any

import httpx
from playwright.sync_api import expect

from divert_local.journey import wait_for
from divert_local.stack import Stack
from tests.browser.pages import IDENTITIES, LAPSE_JURISDICTION, Console, Tokens

PROSECUTOR = IDENTITIES["prosecutor"]


def _warrant_request(stack: Stack, tokens: Tokens, referral_id: str) -> Any:
    with tokens.client(PROSECUTOR) as http:
        response = http.get(f"{stack.url('warrants')}/v1/warrant-requests", params={"referral_id": referral_id})
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    return items[0] if items else None


def _row(console: Console, case_number: str) -> Any:
    return console.page.locator("#lapses tbody tr", has_text=case_number)


def test_lapse_to_the_prosecutors_outcome(
    console: Console, stack: Stack, tokens: Tokens, refer: Callable[..., str]
) -> None:
    kept, withdrawn = (refer(name, jurisdiction=LAPSE_JURISDICTION) for name in ("Blake", "Casey"))
    lapsed = {
        referral_id: wait_for(
            "the demo window to lapse into a warrant request",
            lambda rid=referral_id: _warrant_request(stack, tokens, rid),
            timeout=120,
        )
        for referral_id in (kept, withdrawn)
    }
    officer = {"Authorization": f"Bearer {tokens.officer(LAPSE_JURISDICTION)}"}
    response = httpx.post(
        f"{stack.url('intake')}/v1/referrals/{withdrawn}/withdrawal", json={"reason": "wrong person"}, headers=officer
    )
    assert response.status_code == 200, response.text
    wait_for(
        "the warrant request to be rescinded",
        lambda: _warrant_request(stack, tokens, withdrawn)["status"] == "rescinded",
        timeout=60,
    )

    console.sign_in(PROSECUTOR)
    request_id = lapsed[kept]["warrant_request_id"]
    case_number, rescinded_number = lapsed[kept]["rms_case_number"], lapsed[withdrawn]["rms_case_number"]
    expect(_row(console, case_number)).to_have_count(1)
    expect(_row(console, rescinded_number)).to_contain_text("Do not file")
    expect(_row(console, case_number)).not_to_contain_text("Do not file")
    # The queue shows the police's facts only: never who the person is.
    assert "Blake" not in console.page.content() and "Casey" not in console.page.content()
    console.check("lapse-queue")

    with console.page.expect_navigation():
        _row(console, case_number).get_by_role("link").click()
    assert console.path == f"/lapses/{request_id}"
    expect(console.page.locator("h1")).to_have_text("Lapse notice")
    expect(console.page.locator("main")).to_contain_text(case_number)
    console.check("lapse-notice")

    _click(console, "Acknowledge")
    expect(console.page.locator("main")).to_contain_text("by prosecutor")
    outcome = console.page.get_by_label("Outcome", exact=True)
    outcome.select_option("returned_to_program")
    _click(console, "Record the outcome")
    expect(console.page.locator("#lapse-outcome")).to_contain_text("returned to program")
    expect(console.page.get_by_label("Outcome", exact=True)).to_have_count(0)  # recorded once; no form left
    console.check("lapse-outcome")
    recorded = _warrant_request(stack, tokens, kept)
    assert recorded["disposition"] == "returned_to_program" and recorded["acknowledged_by"] == "prosecutor", recorded

    # Back in the queue the status changed; the rescinded notice says so on its own page too.
    console.page.goto(console.url("/lapses"))
    expect(_row(console, case_number)).to_contain_text("returned to program")
    with console.page.expect_navigation():
        _row(console, rescinded_number).get_by_role("link").click()
    expect(console.page.locator("#do-not-file")).to_contain_text("Do not file")
    console.check("lapse-rescinded")


def _click(console: Console, button: str) -> None:
    with console.page.expect_navigation():
        console.page.get_by_role("button", name=button, exact=True).click()
