"""Case forms become the API's bodies: field names kept, times read in the program's zone."""

from zoneinfo import ZoneInfo

from divert_console.entrypoints.case_steps import STEPS

LA = ZoneInfo("America/Los_Angeles")


def test_a_contact_time_is_read_in_the_programs_zone_and_sent_with_its_offset() -> None:
    body = STEPS["contact"].body({"at": "2026-12-07T09:30", "method": "phone", "outcome": "made"}, LA)
    assert body == {"at": "2026-12-07T17:30:00+00:00", "method": "phone", "outcome": "made"}


def test_a_time_that_is_no_time_goes_as_typed_so_the_api_names_the_field() -> None:
    assert STEPS["enrollment"].body({"enrolled_at": "next tuesday"}, LA) == {"enrolled_at": "next tuesday"}


def test_the_assessment_sends_only_the_ticked_needs_with_their_priorities() -> None:
    form = {
        "completed_at": "2026-12-07T10:00",
        "case_manager_id": "cm-1",
        "need.housing": "on",
        "priority.housing": "1",
        "priority.food": "3",  # not ticked
        "need.legal": "on",
        "priority.legal": "eleven",
    }
    body = STEPS["assessment"].body(form, LA)
    assert body["needs"] == [{"domain": "housing", "priority": 1}, {"domain": "legal", "priority": "eleven"}]
    assert body["case_manager_id"] == "cm-1"


def test_a_consent_names_each_party_once_as_typed_and_part2_only_when_ticked() -> None:
    form = {
        "parties": " org-a, org-b ,",
        "purpose": "service_referral",
        "scope": "assessment_needs",
        "expires_at": "2027-01-01T00:00",
    }
    body = STEPS["consent"].body(form, LA)
    assert body["parties"] == ["org-a", "org-b"]
    assert body["part2"] is False
    assert STEPS["consent"].body({**form, "part2": "on"}, LA)["part2"] is True


def test_every_step_names_a_route_of_the_service_it_belongs_to() -> None:
    for name, step in STEPS.items():
        prefix = "/v1/cases/" if step.service == "assessment" else "/v1/service-referrals"
        assert step.path.startswith(prefix), name


def test_a_time_left_at_its_default_sends_the_instant_the_page_was_drawn() -> None:
    drawn = "2026-12-07T17:30:42.123456+00:00"
    untouched = STEPS["contact"].body({"at": "2026-12-07T09:30", "drawn_at": drawn, "method": "phone"}, LA)
    assert untouched["at"] == drawn  # the minute alone would fall before a referral made at 17:30:10
    changed = STEPS["contact"].body({"at": "2026-12-07T09:10", "drawn_at": drawn, "method": "phone"}, LA)
    assert changed["at"] == "2026-12-07T17:10:00+00:00"
