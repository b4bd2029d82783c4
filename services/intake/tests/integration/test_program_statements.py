"""The programs' own statements, one row each, checked through intake's public API.

Each row quotes a sentence of a program's description that a policy implements, names where it is
said, and submits an accepted and a declined example as the officer's RMS does (POST /v1/referrals,
an officer token of the jurisdiction's agency). A declined example expects the reason codes the
officer is told in the 201 answer; where the statement makes a fact required, the declined example
is a 422 naming the field. Every answer must come from the version in force today (`CURRENT`):
Albany's of 2026-12-01, King County's and Santa Fe's of 2026-12-06, whose rules are those of
2026-12-01 behind an approval gate. There the rules' decision is the recommendation of a referral
waiting for its approver; an accepted example is then approved, as the approver would, and its
window counted from the approval. The approvers' own statements have rows of their own
(`APPROVERS`). A row resting on no program source says so (`assumption`): it is a working
assumption of the policy.

Referral dates are the current time (never in the future), read in the jurisdiction's time zone;
dates in the examples (convictions, birthdays, documented involvement) count back from that local
date, so every row tests the rule as of the day it runs. Real SQLite and PostgreSQL under the
in-process API (conftest.py).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from divert_intake.bootstrap import Intake
from divert_platform.schema import outbox

Headers = dict[str, str]
Token = Callable[..., Headers]
Body = dict[str, Any]
Change = Callable[[Body, date], None]
"""Turns a jurisdiction's base referral into an example; `date` is the referral's local date."""

CURRENT = {"king-county": "2026-12-06", "santa-fe": "2026-12-06", "albany": "2026-12-01"}
GATED = {"king-county": "program_manager", "santa-fe": "prosecutor"}
"""The jurisdictions whose version in force holds each referral for an approver, and who that is."""
OLD_VERSION = "2026-01-01"
ZONES = {  # docs/domain.md, "Policies are versioned data": each jurisdiction's zone, as the programs keep time
    "king-county": ZoneInfo("America/Los_Angeles"),
    "santa-fe": ZoneInfo("America/Denver"),
    "albany": ZoneInfo("America/New_York"),
}
AGENCIES = {"king-county": "SPD", "santa-fe": "SFPD", "albany": "APD"}

# Where the statements are said (docs/domain.md#sources lists them too).
KC_PORTAL = (
    "King County LEAD law-enforcement referral portal, https://leadkingcounty.microsoftcrmportals.com/lereferral/"
)
KC_PILOT = (
    "SPD pilot criteria as published by CrimeSolutions, https://www.crimesolutions.gov/ProgramDetails.aspx?ID=477, "
    "and the SPD protocol slides, https://slideum.com/doc/1564621/law-enforcement-assisted-diversion-lead"
)
KC_PILOT_HISTORY = "SPD protocol slides, https://slideum.com/doc/1564621/law-enforcement-assisted-diversion-lead"
KC_2015 = "King County senior deputy prosecutor, May 2015, https://mynorthwest.com/?p=13943"
KC_WINDOW = "Divert's seed document (30 days), docs/domain.md#arrest-diversion"
SF_REFERRAL = "LEAD Santa Fe, Referral Process, https://www.lead-santafe.org/about/referral-process"
SF_FAQ = "LEAD Santa Fe, FAQs, https://www.lead-santafe.org/faqs"
SF_PARTICIPANTS = "LEAD Santa Fe, participants, https://www.lead-santafe.org/lead-participants"
ALBANY_BROCHURE = (
    "Albany LEAD program page, https://server.fcgdata.com/~ccdalbany/?catid=47&id=196%3Alead-program&view=article, "
    "and the seed brochure's examples (docs/domain.md#eligibility)"
)
ALBANY_CITY = "City of Albany LEAD page, https://albanyny.gov/366/Law-Enforcement-Assisted-Diversion-LEAD"


@dataclass(frozen=True)
class Declined:
    """The officer is told these reason codes, in this order, in the 201 answer."""

    codes: tuple[str, ...]


@dataclass(frozen=True)
class Invalid:
    """A 422 whose errors name `field`: the statement makes a fact required."""

    field: str


@dataclass(frozen=True)
class Statement:
    """One sentence of a program's description, where it is said, and examples on both sides of it."""

    key: str
    jurisdiction: str
    says: str
    source: str
    accepted: tuple[Change, ...]
    declined: tuple[Change, ...]
    expect: Declined | Invalid
    assumption: str | None = None
    """Why no program source backs the row, when none does: the policy's working assumption."""
    due_after_days: int | None = None
    """An accepted arrest diversion is due at the end of the local day this many days later."""
    lapse_action: str | None = None
    """What an accepted arrest diversion's lapse leads to, as published with `referral.accepted`."""


# --- the examples' building blocks ------------------------------------------------------------------


def years_before(day: date, years: int) -> date:
    """The same day `years` calendar years earlier (29 February falls back to the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def offense(category: str, grams: float | None = None, drug_type: str | None = None) -> Change:
    def change(body: Body, day: date) -> None:
        body["offense"] = {"category": category, "drug_quantity_grams": grams, "drug_type": drug_type}

    return change


def screened(**answers: Any) -> Change:
    def change(body: Body, day: date) -> None:
        body["screening"].update(answers)

    return change


def drivers(*names: str) -> Change:
    def change(body: Body, day: date) -> None:
        body["contact_drivers"] = list(names)

    return change


def convicted(category: str, years_ago: int, released_years_ago: int | None = None) -> Change:
    """A prior conviction of `category` on the same day `years_ago` years before the referral."""

    def change(body: Body, day: date) -> None:
        conviction = {"category": category, "convicted_on": years_before(day, years_ago).isoformat()}
        if released_years_ago is not None:
            conviction["released_on"] = years_before(day, released_years_ago).isoformat()
        body["screening"].setdefault("prior_convictions", []).append(conviction)

    return change


def turns(age: int, days_from_now: int) -> Change:
    """A date of birth whose `age`-th birthday is `days_from_now` days after the referral date."""

    def change(body: Body, day: date) -> None:
        body["subject"]["date_of_birth"] = years_before(day + timedelta(days=days_from_now), age).isoformat()

    return change


def social_contact(documented_days_ago: int | None) -> Change:
    """No probable cause and no offense; documented involvement that many days ago (None: none)."""

    def change(body: Body, day: date) -> None:
        body["pathway"] = "social_contact"
        body.pop("offense")
        if documented_days_ago is not None:
            documented = day - timedelta(days=documented_days_ago)
            body["screening"]["prior_involvement_documented_on"] = documented.isoformat()

    return change


def both(*changes: Change) -> Change:
    def change(body: Body, day: date) -> None:
        for each in changes:
            each(body, day)

    return change


def unchanged(body: Body, day: date) -> None:
    """The jurisdiction's base referral as it is: eligible under every statement."""


ANY_TIME = ("murder", "arson", "robbery", "rape", "assault_with_weapon")

# --- the statements ---------------------------------------------------------------------------------

KING_COUNTY = [
    Statement(
        "kc-drug-and-sex-work-offenses",
        "king-county",
        'The program "was designed to divert those suspected of low-level drug and prostitution offenses"; '
        'today it takes "drug possession, sex work, low level theft, bus misconduct, and park violations".',
        f"{KC_PILOT}; {KC_PORTAL}",
        accepted=(
            offense("drug_possession", 1.0, "heroin"),
            offense("drug_delivery_subsistence", 0.5, "methamphetamine"),
            offense("sex_work"),
            offense("theft_low_level"),
            offense("transit_misconduct"),
            offense("park_violation"),
        ),
        declined=(offense("burglary"), offense("assault")),
        expect=Declined(("offense_not_eligible",)),
    ),
    Statement(
        "kc-more-than-3-g",
        "king-county",
        'Ineligible if "the amount of drugs involved exceeds three grams."',
        KC_PILOT,
        accepted=(offense("drug_possession", 3.0, "heroin"), offense("drug_delivery_subsistence", 2.5, "cocaine")),
        declined=(offense("drug_possession", 3.1, "heroin"), offense("drug_delivery_subsistence", 10, "cocaine")),
        expect=Declined(("drug_quantity_over_limit",)),
    ),
    Statement(
        "kc-3-g-needs-the-quantity",
        "king-county",
        'Ineligible if "the amount of drugs involved exceeds three grams": a drug offense must state the amount.',
        KC_PILOT,
        accepted=(offense("sex_work"), offense("drug_possession", 0.2, "heroin")),
        declined=(offense("drug_possession", None, "heroin"),),
        expect=Invalid("body.offense.drug_quantity_grams"),
    ),
    Statement(
        "kc-dealing-for-profit",
        "king-county",
        'Ineligible if the activity is "delivery or possession with intent to deliver", other than a '
        '"subsistence" dealer.',
        KC_PILOT,
        accepted=(both(offense("drug_delivery_subsistence", 1.0, "heroin"), screened(dealing_for_profit=False)),),
        declined=(both(offense("drug_delivery_subsistence", 1.0, "heroin"), screened(dealing_for_profit=True)),),
        expect=Declined(("dealing_for_profit",)),
    ),
    Statement(
        "kc-exploits-minors",
        "king-county",
        'Ineligible if "the individual appears to exploit minors during the drug activity."',
        KC_PILOT,
        accepted=(screened(exploits_minors=False),),
        declined=(screened(exploits_minors=True),),
        expect=Declined(("exploits_minors",)),
    ),
    Statement(
        "kc-promotes-prostitution",
        "king-county",
        'Ineligible if "the individual is suspected of promoting prostitution."',
        KC_PILOT,
        accepted=(both(offense("sex_work"), screened(promotes_prostitution=False)),),
        declined=(both(offense("sex_work"), screened(promotes_prostitution=True)),),
        expect=Declined(("promotes_prostitution",)),
    ),
    Statement(
        "kc-not-amenable",
        "king-county",
        'Ineligible if "the individual does not appear amenable to diversion."',
        KC_PILOT,
        accepted=(screened(amenable=True),),
        declined=(screened(amenable=False),),
        expect=Declined(("not_amenable",)),
    ),
    Statement(
        "kc-serious-violent-history-at-any-time",
        "king-county",
        'Disqualifying history: "murder, arson, robbery, rape, assault /gun violation" (at any time).',
        KC_PILOT_HISTORY,
        # Other convictions never disqualify, however recent.
        accepted=(
            convicted("theft", 1),
            convicted("drug_possession", 2),
            both(convicted("trespass", 0), convicted("sex_work", 3)),
        ),
        declined=tuple(convicted(category, 30, released_years_ago=25) for category in ANY_TIME),
        expect=Declined(("disqualifying_conviction",)),
    ),
    Statement(
        "kc-related-lesser-offenses-within-10-years",
        "king-county",
        '"No conviction in the last 10 year of related but lesser crimes"; in 2015 the prosecutor named '
        '"burglary, robbery or domestic violence in the last 10 years" as the big disqualifiers.',
        f"{KC_PILOT_HISTORY}; {KC_2015}",
        accepted=(convicted("burglary", 11), convicted("domestic_violence", 11, released_years_ago=11)),
        declined=(convicted("burglary", 9), convicted("domestic_violence", 2)),
        expect=Declined(("disqualifying_conviction",)),
    ),
    Statement(
        "kc-lesser-offense-counted-from-release",
        "king-county",
        'Related lesser crimes "in the last 10 years", counted from the release when it is later than the '
        "conviction (a person in prison could not have offended again).",
        KC_PILOT_HISTORY,
        assumption="Counting from the release is Divert's reading of the look-back; no source states it.",
        accepted=(convicted("burglary", 15, released_years_ago=11),),
        declined=(convicted("burglary", 15, released_years_ago=9), convicted("domestic_violence", 12, 1)),
        expect=Declined(("disqualifying_conviction",)),
    ),
    Statement(
        "kc-30-day-window",
        "king-county",
        "The person must complete the intake assessment within 30 days, or a warrant is requested.",
        KC_WINDOW,
        assumption="The warrant request on a lapse follows Divert's original brief; no King County source says so.",
        accepted=(unchanged,),
        declined=(offense("drug_possession", 4.0, "heroin"),),  # declined: no window, no due time
        expect=Declined(("drug_quantity_over_limit",)),
        due_after_days=30,
        lapse_action="warrant_request",
    ),
]

SANTA_FE = [
    Statement(
        "sf-social-referrals",
        "santa-fe",
        'Two types of referral: an officer "may refer an individual for LEAD at the point of an arrest OR '
        'they may refer an individual whom they believe is at high risk of arrest"; a social referral rests on '
        '"prior documented involvement in possession or selling of drugs or prostitution in catchment area".',
        f"{SF_FAQ}; {SF_REFERRAL}; over half of the participants came that way: {SF_PARTICIPANTS}",
        assumption="The 24-month look-back is California Penal Code 1001.87's, not Santa Fe's.",
        accepted=(social_contact(documented_days_ago=90), social_contact(documented_days_ago=700)),
        declined=(social_contact(documented_days_ago=None), social_contact(documented_days_ago=800)),
        expect=Declined(("no_recent_documented_involvement",)),
    ),
    Statement(
        "sf-illicit-opiates-only",
        "santa-fe",
        '"Low-level drug offense: possession of an illicit opiate (heroin or pills) or sale of small amounts of '
        'illicit opiates for subsistence purposes."',
        SF_REFERRAL,
        accepted=(
            offense("drug_possession", 1.0, "heroin"),
            offense("drug_possession", 2.0, "prescription_opioid_pills"),
            offense("drug_delivery_subsistence", 0.5, "fentanyl"),
        ),
        declined=(
            offense("drug_possession", 1.0, "methamphetamine"),
            offense("drug_delivery_subsistence", 0.5, "cocaine"),
        ),
        expect=Declined(("drug_type_not_eligible",)),
    ),
    Statement(
        "sf-opiates-need-the-drug-type",
        "santa-fe",
        '"Possession of an illicit opiate (heroin or pills)": a drug offense must say which drug.',
        SF_REFERRAL,
        accepted=(offense("drug_possession", 1.0, "heroin"),),
        declined=(offense("drug_possession", 1.0, None),),
        expect=Invalid("body.offense.drug_type"),
    ),
    Statement(
        "sf-other-offenses",
        "santa-fe",
        'LEAD redirects people suspected of "non-violent low level crimes, such as shoplifting, minor theft, '
        'possession, and/or possession of paraphernalia"; prostitution is not listed.',
        SF_FAQ,
        accepted=(offense("shoplifting"), offense("theft_low_level"), offense("paraphernalia", None, "heroin")),
        declined=(offense("sex_work"), offense("burglary")),
        expect=Declined(("offense_not_eligible",)),
    ),
    Statement(
        "sf-more-than-6-g",
        "santa-fe",
        'Presumptively ineligible if "the amount of drugs involved exceeds 6 grams".',
        SF_REFERRAL,
        accepted=(offense("drug_possession", 6.0, "heroin"), offense("drug_delivery_subsistence", 5.5, "fentanyl")),
        declined=(offense("drug_possession", 6.5, "heroin"), offense("drug_possession", 7.0, "opioid")),
        expect=Declined(("drug_quantity_over_limit",)),
    ),
    Statement(
        "sf-pills-without-a-limit",
        "santa-fe",
        "For prescription controlled opiates (pills), officers consider the other criteria "
        '"without reference to the amount limitation".',
        SF_REFERRAL,
        accepted=(
            offense("drug_possession", 40.0, "prescription_opioid_pills"),
            offense("drug_delivery_subsistence", 25.0, "prescription_opioid_pills"),
        ),
        declined=(offense("drug_possession", 40.0, "heroin"),),  # the same amount of another opiate
        expect=Declined(("drug_quantity_over_limit",)),
    ),
    Statement(
        "sf-under-18",
        "santa-fe",
        'Presumptively ineligible if "the individual is under the age of 18".',
        SF_REFERRAL,
        accepted=(turns(18, days_from_now=0), turns(18, days_from_now=-400)),
        declined=(turns(18, days_from_now=1), turns(18, days_from_now=200)),
        expect=Declined(("under_minimum_age",)),
    ),
    Statement(
        "sf-not-amenable",
        "santa-fe",
        'Presumptively ineligible if "the individual does not appear amenable to the program".',
        SF_REFERRAL,
        accepted=(screened(amenable=True),),
        declined=(screened(amenable=False),),
        expect=Declined(("not_amenable",)),
    ),
    Statement(
        "sf-dealing-for-profit",
        "santa-fe",
        'Presumptively ineligible if there is "reason to believe the suspect is dealing for profit above a '
        'subsistence income".',
        SF_REFERRAL,
        accepted=(both(offense("drug_delivery_subsistence", 1.0, "heroin"), screened(dealing_for_profit=False)),),
        declined=(both(offense("drug_delivery_subsistence", 1.0, "heroin"), screened(dealing_for_profit=True)),),
        expect=Declined(("dealing_for_profit",)),
    ),
    Statement(
        "sf-exploits-minors",
        "santa-fe",
        'Presumptively ineligible if "the individual appears to exploit minors".',
        SF_REFERRAL,
        accepted=(screened(exploits_minors=False),),
        declined=(screened(exploits_minors=True),),
        expect=Declined(("exploits_minors",)),
    ),
    Statement(
        "sf-promotes-prostitution",
        "santa-fe",
        'Presumptively ineligible if "the individual is suspected of promoting prostitution".',
        SF_REFERRAL,
        accepted=(screened(promotes_prostitution=False),),
        declined=(screened(promotes_prostitution=True),),
        expect=Declined(("promotes_prostitution",)),
    ),
    Statement(
        "sf-disqualifying-history",
        "santa-fe",
        'Presumptively ineligible if "the individual has disqualifying" criminal history; a Santa Fe detective '
        'told legislators "no one with a violent crime or aggravated felony would be eligible".',
        f"{SF_REFERRAL}; https://nmpoliticalreport.com/2015/12/01/"
        "lawmakers-hear-about-alternative-to-incarceration-for-opiate-addicts/",
        assumption="The page's list was not obtained; the categories and the 10 years follow King County's.",
        # Property crime driven by opioid use is what Santa Fe diverts: burglary is not held against anyone.
        accepted=(convicted("burglary", 2), convicted("theft", 1), convicted("domestic_violence", 11)),
        declined=(convicted("robbery", 20), convicted("murder", 40, 20), convicted("assault", 3)),
        expect=Declined(("disqualifying_conviction",)),
    ),
    Statement(
        "sf-state-probation",
        "santa-fe",
        "Excluded: on state probation supervision at the time of contact.",
        "Divert's seed document (docs/domain.md#eligibility)",
        assumption="Not found in Santa Fe's published criteria.",
        accepted=(screened(on_state_probation=False),),
        declined=(screened(on_state_probation=True),),
        expect=Declined(("on_state_probation",)),
    ),
    Statement(
        "sf-7-day-window-return-for-charging",
        "santa-fe",
        '"Presumption is that the charge will NOT be filed as long as the individual completes the initial LEAD '
        'intake assessment within 7-30 days of referral"; Santa Fe counts "within 7 days".',
        f"{SF_REFERRAL}; {SF_PARTICIPANTS}",
        accepted=(unchanged, offense("shoplifting")),
        declined=(offense("drug_possession", 8.0, "heroin"),),  # declined: no window, no due time
        expect=Declined(("drug_quantity_over_limit",)),
        due_after_days=7,
        lapse_action="return_for_charging",
    ),
]

ALBANY = [
    Statement(
        "albany-drivers-not-offense-lists",
        "albany",
        "Eligible when the contact is driven by drug use, mental illness, poverty or a mix (e.g. trespass because "
        "of homelessness, a non-life-threatening mental health crisis, shoplifting baby formula); Albany targets "
        'contact driven by "addiction, mental illness, and poverty".',
        f"{ALBANY_BROCHURE}; {ALBANY_CITY}",
        accepted=(
            both(offense("trespass"), drivers("poverty")),  # sleeping in a doorway: homelessness
            both(offense("shoplifting"), drivers("poverty")),  # baby formula
            both(offense("mental_health_crisis"), drivers("mental_illness")),
            both(offense("petit_larceny"), drivers("drug_use")),  # the police chief's example: to feed an addiction
            both(offense("criminal_mischief"), drivers("drug_use", "mental_illness", "poverty")),
        ),
        # Without a driver no offense qualifies: Albany lists none of its own.
        declined=(both(offense("trespass"), drivers()), both(offense("petit_larceny"), drivers())),
        expect=Declined(("offense_not_eligible", "no_qualifying_contact_driver")),
    ),
    Statement(
        "albany-violent-felonies-excluded",
        "albany",
        "Excluded: violent felonies.",
        "Divert's seed document (docs/domain.md#eligibility)",
        assumption="No public Albany source for a violent-felony exclusion was found.",
        accepted=(both(offense("trespass"), drivers("drug_use")),),
        declined=(both(offense("violent_felony"), drivers("drug_use")),),
        expect=Declined(("offense_not_eligible",)),
    ),
    Statement(
        "albany-exploitation-of-minors-excluded",
        "albany",
        "Excluded: exploitation of minors.",
        ALBANY_BROCHURE,
        accepted=(both(offense("shoplifting"), drivers("poverty"), screened(exploits_minors=False)),),
        declined=(both(offense("shoplifting"), drivers("poverty"), screened(exploits_minors=True)),),
        expect=Declined(("exploits_minors",)),
    ),
    Statement(
        "albany-exploitation-of-minors-offense-excluded",
        "albany",
        "Excluded: exploitation of minors, whatever drove the contact.",
        ALBANY_BROCHURE,
        accepted=(both(offense("loitering"), drivers("poverty")),),
        declined=(both(offense("exploitation_of_minors"), drivers("drug_use", "poverty")),),
        expect=Declined(("offense_not_eligible",)),
    ),
]

STATEMENTS = [*KING_COUNTY, *SANTA_FE, *ALBANY]


def base_referral(jurisdiction: str) -> tuple[Body, date]:
    """An eligible arrest diversion referred a moment ago, with the referral's local date."""
    referred_at = (datetime.now(UTC) - timedelta(minutes=5)).astimezone(ZONES[jurisdiction])
    assert referred_at.date() >= date(2026, 12, 1), "the clock reads a date before the versions under test"
    body: Body = {
        "jurisdiction": jurisdiction,
        "pathway": "arrest_diversion",
        "referred_at": referred_at.isoformat(),
        "rms": {"agency": AGENCIES[jurisdiction], "case_number": uuid4().hex[:16], "officer_id": "7781"},
        "subject": {"given_name": "Robin", "family_name": "Roe", "date_of_birth": "1990-03-14"},
        "offense": {
            "king-county": {"category": "drug_possession", "drug_quantity_grams": 1.2, "drug_type": "methamphetamine"},
            "santa-fe": {"category": "drug_possession", "drug_quantity_grams": 1.0, "drug_type": "heroin"},
            "albany": {"category": "trespass"},
        }[jurisdiction],
        "screening": {
            "amenable": True,
            "dealing_for_profit": False,
            "exploits_minors": False,
            "promotes_prostitution": False,
            "on_state_probation": False,
            "in_treatment_court": False,
            "no_contact_order_with_participant": False,
        },
        "contact_drivers": ["poverty"] if jurisdiction == "albany" else ["drug_use"],
    }
    return body, referred_at.date()


async def submit(client: httpx.AsyncClient, token: Token, body: Body) -> httpx.Response:
    """POST the referral as an officer of its agency and jurisdiction."""
    officer = token("officer", subject="officer-7781", agency=body["rms"]["agency"], jurisdiction=body["jurisdiction"])
    return await client.post("/v1/referrals", json=body, headers=officer)


def end_of_local_day(day: date, zone: ZoneInfo) -> datetime:
    """The last moment of `day` in `zone`, as the API writes a due time."""
    return datetime.combine(day, time.max, tzinfo=zone)


async def decide(
    client: httpx.AsyncClient, token: Token, jurisdiction: str, referral_id: str, decision: str, reason: str
) -> httpx.Response:
    """The jurisdiction's approver decides a referral waiting at its gate."""
    approver = token(GATED[jurisdiction], subject=f"{GATED[jurisdiction]}-statements", jurisdiction=jurisdiction)
    return await client.post(
        f"/v1/referrals/{referral_id}/approval",
        json={"decision": decision, "reason_code": reason},
        headers={**approver, "Idempotency-Key": str(uuid4())},
    )


def local_today(jurisdiction: str) -> date:
    return datetime.now(ZONES[jurisdiction]).date()


def waited_for_its_approver(answer: Body) -> None:
    """A gated submission's answer, just received: the rules' decision kept as the recommendation,
    the approver's decision due two days after the submission."""
    assert answer["status"] == "pending_approval" and answer["assessment_due_by"] is None, answer
    since_submission = datetime.now(UTC) + timedelta(days=2) - datetime.fromisoformat(answer["approval_due_by"])
    assert timedelta(0) <= since_submission < timedelta(minutes=1), answer


@pytest.mark.parametrize("statement", [pytest.param(s, id=s.key) for s in STATEMENTS])
async def test_each_program_statement_accepts_its_example_and_declines_its_counter_example(
    client: httpx.AsyncClient, intake: Intake, token: Token, statement: Statement
) -> None:
    assert statement.says and statement.source and statement.accepted and statement.declined
    jurisdiction = statement.jurisdiction

    for example in statement.accepted:
        body, day = base_referral(jurisdiction)
        example(body, day)
        response = await submit(client, token, body)
        assert response.status_code == 201, (statement.says, body, response.text)
        answer = response.json()
        assert answer["decision"] == {
            "eligible": True,
            "policy": jurisdiction,
            "policy_version": CURRENT[jurisdiction],
            "reasons": [],
        }
        if jurisdiction in GATED:
            waited_for_its_approver(answer)
            earliest = local_today(jurisdiction)
            response = await decide(client, token, jurisdiction, answer["referral_id"], "approve", "meets_criteria")
            assert response.status_code == 200, (statement.says, response.text)
            answer, latest = response.json(), local_today(jurisdiction)
            day = earliest  # the window counts from the approval, on its local date
        assert answer["status"] == "accepted", (statement.says, body, answer)
        if body["pathway"] != "arrest_diversion":
            assert answer["assessment_due_by"] is None  # only arrest diversions have a window
        if statement.due_after_days is not None:
            due = datetime.fromisoformat(answer["assessment_due_by"])
            days = timedelta(days=statement.due_after_days)
            expected = [end_of_local_day(day + days, ZONES[jurisdiction])]
            if jurisdiction in GATED and latest != earliest:  # the approval straddled local midnight
                expected.append(end_of_local_day(latest + days, ZONES[jurisdiction]))
            assert any((due, due.utcoffset()) == (e, e.utcoffset()) for e in expected), (due, expected)
        if statement.lapse_action is not None:
            async with intake.sessions() as session:
                accepted = (outbox.c.message_key == answer["referral_id"]) & (
                    outbox.c.event_type == "org.divert.referral.accepted.v1"
                )
                [published] = (await session.execute(select(outbox.c.data).where(accepted))).all()
            assert published.data["lapse_action"] == statement.lapse_action

    for example in statement.declined:
        body, day = base_referral(statement.jurisdiction)
        example(body, day)
        response = await submit(client, token, body)
        if isinstance(statement.expect, Invalid):
            assert response.status_code == 422, (statement.says, body, response.text)
            assert statement.expect.field in [error["field"] for error in response.json()["errors"]]
            continue
        assert response.status_code == 201, (statement.says, body, response.text)
        answer = response.json()
        assert answer["decision"]["eligible"] is False
        assert answer["decision"]["policy_version"] == CURRENT[jurisdiction]
        codes = tuple(reason["code"] for reason in answer["decision"]["reasons"])
        assert codes == statement.expect.codes, (statement.says, body, answer)
        if jurisdiction in GATED:
            # It waits too: only the approver may override the rules (APPROVERS shows a denial).
            waited_for_its_approver(answer)
            continue
        assert answer["status"] == "declined" and answer["assessment_due_by"] is None, (statement.says, body, answer)


@dataclass(frozen=True)
class VersionCase:
    """The same referral on 2026-06-01 and today: each decided by the version in force on its date."""

    jurisdiction: str
    change: Change
    june_2026: str  # the referral's local noon on 2026-06-01, with its offset
    then: Declined | Invalid | None  # None: accepted
    now: Declined | Invalid | None


VERSION_CASES = [
    pytest.param(
        VersionCase(
            "king-county",
            screened(disqualifying_convictions=["burglary 2019"]),
            "2026-06-01T12:00:00-07:00",
            then=Declined(("disqualifying_conviction",)),  # the officer's judgement, as the old version takes it
            now=Invalid("body.screening.disqualifying_convictions"),  # the new one computes convictions itself
        ),
        id="king-county-convictions",
    ),
    pytest.param(
        VersionCase(
            "king-county",
            convicted("burglary", 3),
            "2026-06-01T12:00:00-07:00",
            then=Invalid("body.screening.prior_convictions"),
            now=Declined(("disqualifying_conviction",)),
        ),
        id="king-county-dated-convictions",
    ),
    pytest.param(
        VersionCase(
            "santa-fe",
            offense("drug_possession", 1.0, "methamphetamine"),
            "2026-06-01T12:00:00-06:00",
            then=None,
            now=Declined(("drug_type_not_eligible",)),
        ),
        id="santa-fe-drug-types",
    ),
    pytest.param(
        VersionCase(
            "santa-fe",
            social_contact(documented_days_ago=30),
            "2026-06-01T12:00:00-06:00",
            then=Invalid("body.pathway"),  # the old version took arrests only
            now=None,
        ),
        id="santa-fe-social-contact",
    ),
    pytest.param(
        VersionCase(
            "albany",
            both(offense("petit_larceny"), drivers("drug_use")),
            "2026-06-01T12:00:00-04:00",
            then=Declined(("offense_not_eligible",)),  # the old version's closed list
            now=None,
        ),
        id="albany-drivers",
    ),
]


@pytest.mark.parametrize("case", VERSION_CASES)
async def test_a_back_dated_referral_is_decided_by_the_version_in_force_on_its_date(
    client: httpx.AsyncClient, token: Token, case: VersionCase
) -> None:
    now = CURRENT[case.jurisdiction]
    for referred_at, expect, version in ((case.june_2026, case.then, OLD_VERSION), (None, case.now, now)):
        body, today = base_referral(case.jurisdiction)
        if referred_at is not None:
            body["referred_at"] = referred_at
        case.change(body, datetime.fromisoformat(body["referred_at"]).date() if referred_at else today)
        response = await submit(client, token, body)
        if isinstance(expect, Invalid):
            assert response.status_code == 422, response.text
            assert expect.field in [error["field"] for error in response.json()["errors"]]
            continue
        assert response.status_code == 201, response.text
        decision = response.json()["decision"]
        assert decision["policy_version"] == version
        assert [reason["code"] for reason in decision["reasons"]] == list(expect.codes if expect else ())


@dataclass(frozen=True)
class ApproverStatement:
    """A program's word on who decides each referral, and Divert's assumptions around it."""

    jurisdiction: str
    says: str
    source: str
    assumption: str


APPROVERS = [
    pytest.param(
        ApproverStatement(
            "king-county",
            'Only "designated individuals within Law Enforcement or the Public Defender Association Project '
            'Management Team" can approve referrals.',
            KC_PORTAL,
            "Two days to decide, and acceptance of what the rules found eligible when nobody has: no source says.",
        ),
        id="kc-designated-approvers",
    ),
    pytest.param(
        ApproverStatement(
            "santa-fe",
            'The prosecuting attorney "has final authority on client eligibility".',
            SF_REFERRAL,
            "Two days to decide, and acceptance of what the rules found eligible when nobody has: no source says.",
        ),
        id="sf-prosecutor-decides",
    ),
]


@pytest.mark.parametrize("statement", APPROVERS)
async def test_each_programs_approver_decides_every_referral_and_nobody_else_does(
    client: httpx.AsyncClient, token: Token, statement: ApproverStatement
) -> None:
    jurisdiction, approver = statement.jurisdiction, GATED[statement.jurisdiction]
    assert statement.says and statement.source and statement.assumption
    other = "prosecutor" if approver == "program_manager" else "program_manager"

    body, _ = base_referral(jurisdiction)
    answer = (await submit(client, token, body)).json()
    waited_for_its_approver(answer)
    wrong = await client.post(
        f"/v1/referrals/{answer['referral_id']}/approval",
        json={"decision": "approve", "reason_code": "meets_criteria"},
        headers={**token(other, jurisdiction=jurisdiction), "Idempotency-Key": str(uuid4())},
    )
    assert wrong.status_code == 403, wrong.text  # the policy names the other role
    approved = await decide(client, token, jurisdiction, answer["referral_id"], "approve", "meets_criteria")
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "accepted" and approved.json()["assessment_due_by"] is not None

    # The approver may decline what the rules found eligible: the decision is theirs.
    body, _ = base_referral(jurisdiction)
    answer = (await submit(client, token, body)).json()
    assert answer["decision"]["eligible"] is True
    denied = await decide(client, token, jurisdiction, answer["referral_id"], "deny", "victim_objection")
    assert denied.status_code == 200, denied.text
    assert denied.json()["status"] == "declined" and denied.json()["assessment_due_by"] is None


async def test_a_conviction_category_the_policy_does_not_know_is_a_422_listing_the_ones_it_does(
    client: httpx.AsyncClient, token: Token
) -> None:
    body, day = base_referral("king-county")
    convicted("burglary", 12)(body, day)
    convicted("jaywalking", 1)(body, day)

    response = await submit(client, token, body)

    assert response.status_code == 422, response.text
    [error] = [e for e in response.json()["errors"] if e["field"] == "body.screening.prior_convictions.1.category"]
    for accepted in ("murder", "assault_with_weapon", "burglary", "domestic_violence", "theft"):
        assert accepted in error["message"]


async def test_a_conviction_dated_after_the_referral_is_a_422_naming_it(
    client: httpx.AsyncClient, token: Token
) -> None:
    body, day = base_referral("king-county")
    body["screening"]["prior_convictions"] = [
        {"category": "theft", "convicted_on": (day + timedelta(days=1)).isoformat()}
    ]

    response = await submit(client, token, body)

    assert response.status_code == 422, response.text
    assert "body.screening.prior_convictions.0.convicted_on" in [e["field"] for e in response.json()["errors"]]
