"""From a police referral to enrolment, walked by a case manager through the console's pages.

The referral comes in through intake's REST API as an RMS would send it; everything after is done
in the browser: the case appears in the caseload, and the case page's forms record the contact, the
consent, the assessment with its needs and the enrolment. What the pages show is checked against
the assessment API itself, so a page that only looked right would fail.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.sync_api import BrowserContext, expect

from divert_local.journey import wait_for
from divert_local.stack import Stack
from tests.browser.pages import IDENTITIES, Console, Tokens

CASE_MANAGER = IDENTITIES["case_manager"]
LOCAL_MINUTE = "%Y-%m-%dT%H:%M"  # a datetime-local field's value (the console shows and reads UTC by default)


def _case(stack: Stack, tokens: Tokens, referral_id: str) -> Any:
    with tokens.client(CASE_MANAGER) as http:
        response = http.get(f"{stack.url('assessment')}/v1/cases/{referral_id}")
    return response.json() if response.status_code == 200 else None


def _in_caseload(console: Console, referral_id: str) -> bool:
    console.page.goto(console.url("/cases"))
    return console.page.locator(f"#cases a[href='/cases/{referral_id}']").count() == 1


def _registered_party(stack: Stack, tokens: Tokens) -> str:
    """An organisation the program registered that may receive case information (not enforcement)."""
    with tokens.client(CASE_MANAGER) as http:
        response = http.get(f"{stack.url('assessment')}/v1/organisations")
    assert response.status_code == 200, response.text
    return next(org["id"] for org in response.json()["items"] if org["may_receive"])


def _timeline(console: Console) -> list[str]:
    return console.page.locator("#timeline li").all_inner_texts()


def test_referral_to_enrolment_through_the_case_page(
    console: Console, context: BrowserContext, stack: Stack, tokens: Tokens, refer: Callable[..., str]
) -> None:
    # Referred an hour ago, so that the forms' "now" (to the minute) is never before the referral.
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    referral_id, *others = (refer(name, referred_at=an_hour_ago) for name in ("Robin", "Sam", "Alex"))
    console.sign_in(CASE_MANAGER)
    for case_id in (referral_id, *others):
        wait_for("the case to appear in the caseload", lambda rid=case_id: _in_caseload(console, rid), timeout=30)
    console.check("caseload")
    console.publish("caseload", "console-caseload.png")
    with console.page.expect_navigation():
        console.page.locator(f"#cases a[href='/cases/{referral_id}']").click()
    assert console.path == f"/cases/{referral_id}"
    expect(console.page.locator("h1")).to_have_text("Case: Example, Robin")
    expect(console.page.locator("#case-status")).to_have_text("pending assessment")
    console.check("case-opened")
    steps = len(_timeline(console))

    # Contact: posted once by the browser, then the very same form (same idempotency key) again,
    # as a double click or a resubmitted page would: the API does it once.
    sent = console.form_data("Record a contact")
    assert sent["idempotency_key"] and sent["csrf_token"], "a case form carries its keys"
    console.submit("Record a contact", {"How": "phone", "Outcome": "made"})
    assert console.path.startswith(f"/cases/{referral_id}")
    assert console.status_message() == "Contact recorded."
    assert len(_timeline(console)) == steps + 1, _timeline(console)
    again = context.request.post(
        console.form_action("Record a contact"), form=sent | {"method": "phone"}, max_redirects=0
    )
    assert again.status == 303, f"the repeated contact answered {again.status}: {again.text()[:500]}"
    console.page.reload()
    assert len(_timeline(console)) == steps + 1, "the repeated form recorded a second contact"
    case = _case(stack, tokens, referral_id)
    assert case["contacts_attempted"] == 1 and case["first_contact_at"], case
    console.check("case-contacted")

    # A bad value: a contact in the future. The API's problem comes back next to the field.
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime(LOCAL_MINUTE)
    refused = console.submit("Record a contact", {"When": tomorrow})
    assert refused.status == 422, refused.status
    field = console.form("Record a contact").get_by_label("When", exact=True)
    expect(field).to_have_attribute("aria-invalid", "true")
    described_by = field.get_attribute("aria-describedby")
    assert described_by, "the field points at its problem"
    alert = console.page.locator(f"[id='{described_by}']")
    expect(alert).to_have_attribute("role", "alert")
    expect(alert).to_contain_text("future")
    expect(field).to_have_value(tomorrow)  # what was typed stays, to be corrected
    console.check("case-problem")
    assert _case(stack, tokens, referral_id)["contacts_attempted"] == 1, "the refused contact was recorded"

    # Consent, assessment with two needs, enrolment.
    console.page.goto(console.url(f"/cases/{referral_id}"))
    party = _registered_party(stack, tokens)
    in_half_a_year = (datetime.now(UTC) + timedelta(days=180)).strftime(LOCAL_MINUTE)
    console.submit(
        "Record a consent",
        {
            "Parties (organisation ids, comma-separated)": party,
            "Purpose": "service_referral",
            "Scope": "assessment_needs",
            "Expires": in_half_a_year,
        },
    )
    assert console.status_message() == "Consent recorded."
    assert len(_timeline(console)) == steps + 2
    expect(console.page.locator("#consent")).to_contain_text(party)

    console.submit(
        "Record the assessment",
        {
            "housing": True,
            "#priority-housing": "1",
            "substance use treatment": True,
            "#priority-substance_use_treatment": "2",
        },
    )
    assert console.status_message() == "Assessment recorded."
    expect(console.page.locator("#case-status")).to_have_text("assessed")
    expect(console.page.locator("#person-heading ~ ul")).to_contain_text("housing (priority 1)")
    assert len(_timeline(console)) == steps + 3
    console.check("case-assessed")

    console.submit("Enroll the participant")
    assert console.status_message() == "Participant enrolled."
    expect(console.page.locator("#case-status")).to_have_text("enrolled")
    assert len(_timeline(console)) == steps + 4
    console.check("case-enrolled")

    # The API holds exactly what the pages did.
    case = _case(stack, tokens, referral_id)
    assert case["status"] == "enrolled", case["status"]
    assert [(need["domain"], need["priority"]) for need in case["assessment"]["needs"]] == [
        ("housing", 1),
        ("substance_use_treatment", 2),
    ]
    assert case["contacts_attempted"] == 1 and len(case["consents"]) == 1
    # ... and intake tells the police "enrolled", and nothing of the case.
    with httpx.Client(timeout=10, headers={"Authorization": f"Bearer {tokens.officer('king-county')}"}) as http:
        police = wait_for(
            "intake to hear of the enrolment",
            lambda: (
                (body := http.get(f"{stack.url('intake')}/v1/referrals/{referral_id}").json()).get("enrolled") and body
            ),
            timeout=30,
        )
    assert "needs" not in police
