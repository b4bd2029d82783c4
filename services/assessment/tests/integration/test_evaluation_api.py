"""The evaluation export through the API with real tokens, on SQLite and PostgreSQL: the
de-identified extract (over the mixed caseload, see `caseload` in conftest), its Part 2 rule,
dictionary, pagination, audit and scope, and the outcome measures."""

from datetime import date, timedelta
from typing import Any

import pytest

from divert_assessment.entrypoints.evaluation import EvaluationRow
from divert_contracts.referrals import Subject
from divert_platform.audit import audit_log
from divert_platform.clock import utcnow

EXTRACT = "/v1/reports/evaluation"
OUTCOMES = "/v1/reports/evaluation/outcomes"
IDENTIFYING = ("given_name", "family_name", "date_of_birth", "phone", "rms_person_id", "rms_agency", "notes")


def window(caseload: Any, **params: Any) -> dict[str, Any]:
    return {"from": caseload.referred_from.isoformat(), "to": caseload.referred_to.isoformat()} | params


@pytest.fixture
def evaluator(bearer) -> dict[str, str]:
    """Headers of an evaluator of king-county."""
    return bearer("evaluator", subject="eval-1")


async def extract(client, caseload, headers, **params: Any) -> dict[str, Any]:
    response = await client.get(EXTRACT, params=window(caseload, **params), headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_extract_has_a_row_per_case_of_the_window_and_nothing_that_names_anyone(
    client, caseload, evaluator
) -> None:
    page = await extract(client, caseload, evaluator)

    rows = {row["referral_id"]: row for row in page["items"]}
    ids = caseload.ids
    assert set(rows) == {str(ids[name]) for name in ("k1", "k2", "k3")}  # not `old`, not snohomish's
    assert page["jurisdiction"] == "king-county" and page["next_cursor"] is None
    k1, k2, k3 = rows[str(ids["k1"])], rows[str(ids["k2"])], rows[str(ids["k3"])]
    assert set(k1) == set(EvaluationRow.model_fields)
    assert (k1["pathway"], k1["precinct"], k1["policy_version"]) == ("arrest_diversion", "East", "2025-01")
    assert k1["assessed_on_time"] is True and k1["enrolled_at"] is not None and k1["closed_at"] is None
    assert k1["first_contact_at"] is not None and k1["assessed_at"].endswith("Z")
    # k1's Part 2 consent names a clinic, not the evaluators: its substance-use need is left out
    assert k1["needs"] == ["housing"]
    assert (k2["assessed_on_time"], k2["declined_reason"], k2["close_reason"]) == (False, "not_interested", "declined")
    assert k3["assessed_at"] is None and k3["needs"] == []
    assert len({row["person_key"] for row in rows.values()}) == 3
    text = str(page)
    for name in ("K1", "K2", "K3", "Doe", "P-k1", "555-0101", "SPD", *IDENTIFYING):
        assert name not in text


async def test_a_part2_consent_naming_the_evaluators_lets_the_part2_need_in_until_revoked(
    client, caseload, evaluator
) -> None:
    k1 = f"/v1/cases/{caseload.ids['k1']}"
    consent = {
        "parties": ["demo-evaluation-team"],
        "purpose": "care_coordination",
        "scope": "assessment_needs",
        "part2": True,
        "expires_at": (utcnow() + timedelta(days=90)).isoformat(),
    }
    recorded = await client.post(f"{k1}/consents", json=consent)
    assert recorded.status_code == 201, recorded.text

    def k1_row(page: dict[str, Any]) -> dict[str, Any]:
        return next(row for row in page["items"] if row["referral_id"] == str(caseload.ids["k1"]))

    assert k1_row(await extract(client, caseload, evaluator))["needs"] == ["substance_use_treatment", "housing"]
    revoked = await client.post(f"{k1}/consents/{recorded.json()['consent_id']}/revocation")
    assert revoked.status_code == 200
    assert k1_row(await extract(client, caseload, evaluator))["needs"] == ["housing"]


async def test_every_referral_of_one_person_has_one_key_and_other_people_other_keys(client, open_case, bearer) -> None:
    start = utcnow() - timedelta(days=2)
    person = Subject(given_name="Ana", family_name="Diaz", rms_person_id="P-77")
    first = await open_case(subject=person, referred_at=start)
    again = await open_case(subject=person.model_copy(update={"phone": "555-0199"}), referred_at=start)
    namesake = await open_case(subject=Subject(given_name="Ana", family_name="Diaz"), referred_at=start)
    params = {"from": (start - timedelta(hours=1)).isoformat(), "to": utcnow().isoformat()}

    page = (await client.get(EXTRACT, params=params, headers=bearer("program_manager"))).json()

    keys = {row["referral_id"]: row["person_key"] for row in page["items"]}
    assert keys[str(first.referral_id)] == keys[str(again.referral_id)]
    assert keys[str(namesake.referral_id)] != keys[str(first.referral_id)]  # no RMS id: keyed by name, not linked


async def test_another_jurisdictions_evaluator_sees_only_theirs(client, caseload, bearer) -> None:
    page = await extract(client, caseload, bearer("evaluator", jurisdiction="snohomish"))

    assert page["jurisdiction"] == "snohomish"
    assert {row["referral_id"] for row in page["items"]} == {
        str(caseload.ids[name]) for name in ("s1", "s2", "s3", "r1")
    }


async def test_pages_follow_the_cursor_oldest_first(client, caseload, evaluator) -> None:
    first = await extract(client, caseload, evaluator, limit=2)
    second = await extract(client, caseload, evaluator, limit=2, cursor=first["next_cursor"])

    referred = [row["referred_at"] for row in first["items"] + second["items"]]
    assert len(first["items"]) == 2 and first["next_cursor"]
    assert len(second["items"]) == 1 and second["next_cursor"] is None
    assert referred == sorted(referred)


async def test_each_extract_is_audited_with_the_caller_window_and_row_count(
    client, caseload, evaluator, program_manager, rows
) -> None:
    await client.get(EXTRACT, params=window(caseload), headers=evaluator | {"X-Divert-Purpose": "outcome study"})

    [summary] = await rows(audit_log, audit_log.c.referral_id.is_(None))
    assert (summary["actor"], summary["role"], summary["purpose"]) == ("eval-1", "evaluator", "outcome study")
    assert summary["resource"].startswith("evaluation_extract king-county ")
    assert summary["resource"].endswith(" rows=3")
    assert f"{caseload.referred_from:%Y-%m-%dT%H:%M:%S}Z/" in summary["resource"]
    # and each case's own trail shows the read
    trail = await client.get("/v1/audit", params={"referral_id": str(caseload.ids["k1"])}, headers=program_manager)
    reads = [entry for entry in trail.json()["entries"] if entry["what"] == "evaluation_extract"]
    assert [(entry["actor"], entry["role"]) for entry in reads] == [("eval-1", "evaluator")]


async def test_the_dictionary_describes_every_column_of_a_row(client, caseload, evaluator) -> None:
    dictionary = (await client.get(f"{EXTRACT}/dictionary", headers=evaluator)).json()
    row = (await extract(client, caseload, evaluator))["items"][0]

    fields = {field["name"]: field for field in dictionary["fields"]}
    assert list(fields) == list(row)
    assert fields["needs"]["type"] == "array" and "substance_use_treatment" in fields["needs"]["allowed_values"]
    assert fields["referred_at"]["format"] == "date-time" and not fields["referred_at"]["nullable"]
    assert fields["close_reason"]["nullable"] and "moved_away" in fields["close_reason"]["allowed_values"]
    assert all(field["description"] for field in fields.values())


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"to": "2026-01-01T00:00:00Z"}, "query.from"),
        ({"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "query.to"),
        ({"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z", "limit": 1001}, "query.limit"),
        ({"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z", "cursor": "bm90LWEtY3Vyc29y"}, "query.cursor"),
    ],
)
async def test_bad_queries_are_422_naming_the_field(client, evaluator, params, field) -> None:
    response = await client.get(EXTRACT, params=params, headers=evaluator)

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [field]


async def test_without_a_key_outside_development_the_export_is_off(client, assessment, evaluator) -> None:
    assessment.settings.environment = "test"  # as a rig that never set DIVERT_EVALUATION_KEY
    params = {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"}

    response = await client.get(EXTRACT, params=params, headers=evaluator)

    assert response.status_code == 503 and "DIVERT_EVALUATION_KEY" in response.json()["detail"]


# ---------------------------------------------------------------- outcome measures


def outcomes_body(caseload: Any, records: list[dict[str, Any]], comparison: list[dict[str, Any]]) -> dict[str, Any]:
    return window(caseload) | {"records": records, "comparison": comparison}


def arrest(key: str, on: date, *, kind: str = "arrest", felony: bool = False) -> dict[str, Any]:
    return {"person_key": key, "date": on.isoformat(), "kind": kind, "felony": felony}


async def test_the_measures_of_participants_and_a_comparison_group(client, caseload, evaluator, rows) -> None:
    page = await extract(client, caseload, evaluator)
    k1 = next(row for row in page["items"] if row["referral_id"] == str(caseload.ids["k1"]))
    index = date.fromisoformat(k1["referred_at"][:10])
    others = ["c" * 64, "d" * 64]
    compared = date(2025, 6, 1)
    records = [
        arrest(k1["person_key"], index - timedelta(days=40)),
        arrest(k1["person_key"], index - timedelta(days=300)),  # 12 months only
        arrest(k1["person_key"], index + timedelta(days=2), kind="charge", felony=True),
        arrest(others[0], compared - timedelta(days=10), kind="charge", felony=True),
        arrest(others[1], compared + timedelta(days=100)),
        arrest("e" * 64, compared),  # nobody's
    ]
    comparison = [{"person_key": key, "index_date": compared.isoformat()} for key in others]

    response = await client.post(OUTCOMES, json=outcomes_body(caseload, records, comparison), headers=evaluator)

    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["participants"], report["comparison"], report["overlap"]) == (3, 2, 0)
    assert (report["records"], report["records_matched"]) == (6, 5)
    measures = {(m["group"], m["measure"], m["months"]): m for m in report["measures"]}
    arrests6 = measures["participants", "arrests", 6]
    assert (arrests6["n"], arrests6["total_before"], arrests6["total_after"]) == (3, 1, 0)
    assert (arrests6["mean_before"], arrests6["change_in_mean"], arrests6["change_percent"]) == (
        0.3333,
        -0.3333,
        -100.0,
    )
    assert measures["participants", "arrests", 12]["total_before"] == 2
    assert measures["participants", "felony_charges", 6]["total_after"] == 1
    assert measures["comparison", "felony_charges", 6]["total_before"] == 1
    assert measures["comparison", "arrests", 6]["mean_after"] == 0.5
    # audited with counts only: no key, no date from the upload
    [summary] = await rows(audit_log, audit_log.c.resource.like("evaluation_outcomes%"))
    assert summary["role"] == "evaluator"
    assert summary["resource"].endswith("participants=3 comparison=2 records=6")
    assert k1["person_key"] not in str(await rows(audit_log))


def by_identity(record: dict[str, Any], **identity: str) -> dict[str, Any]:
    """`record` with its person key replaced by an identity."""
    return {name: value for name, value in record.items() if name != "person_key"} | identity


async def outcomes(client, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    response = await client.post(OUTCOMES, json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_records_given_by_rms_identity_match_the_participant_as_by_person_key(
    client, caseload, evaluator, rows
) -> None:
    page = await extract(client, caseload, evaluator)
    k1 = next(row for row in page["items"] if row["referral_id"] == str(caseload.ids["k1"]))
    index = date.fromisoformat(k1["referred_at"][:10])
    keyed = [
        arrest(k1["person_key"], index - timedelta(days=40)),
        arrest(k1["person_key"], index + timedelta(days=3), kind="charge", felony=True),
    ]
    # as a police records extract has them: agency and person id, spelt as that system spells them
    identified = [by_identity(record, rms_agency=" spd", rms_person_id="p-K1") for record in keyed]

    by_key = await outcomes(client, outcomes_body(caseload, keyed, []), evaluator)
    by_rms = await outcomes(client, outcomes_body(caseload, identified, []), evaluator)

    assert (by_key["records_matched"], by_key["records_by_identity"]) == (2, 0)
    assert (by_rms["records_matched"], by_rms["records_by_identity"]) == (2, 2)
    assert by_rms["measures"] == by_key["measures"]
    measures = {(m["group"], m["measure"], m["months"]): m for m in by_rms["measures"]}
    assert measures["participants", "arrests", 6]["total_before"] == 1
    assert measures["participants", "felony_charges", 6]["total_after"] == 1
    # another agency's person of the same id is somebody else
    elsewhere = [by_identity(record, rms_agency="KCSO", rms_person_id="P-k1") for record in keyed]
    assert (await outcomes(client, outcomes_body(caseload, elsewhere, []), evaluator))["records_matched"] == 0
    # the identities went nowhere: the audit holds counts only
    audited = str(await rows(audit_log))
    assert "p-K1" not in audited and "P-k1" not in audited and "KCSO" not in audited


async def test_records_and_comparison_given_by_names_and_date_of_birth(client, open_case, evaluator, rows) -> None:
    referred_at = utcnow() - timedelta(days=1)
    unknown_to_the_rms = Subject(given_name="José", family_name="O'Brien-Smith", date_of_birth=date(1988, 4, 5))
    participant = await open_case(subject=unknown_to_the_rms, referred_at=referred_at)
    window_ = {"from": (referred_at - timedelta(hours=1)).isoformat(), "to": utcnow().isoformat()}
    page = (await client.get(EXTRACT, params=window_, headers=evaluator)).json()
    [row] = [row for row in page["items"] if row["referral_id"] == str(participant.referral_id)]
    index = referred_at.date()
    compared = date(2025, 6, 1)
    named = {"family_name": "OBRIEN SMITH", "given_name": "jose", "date_of_birth": "1988-04-05"}
    other = {"family_name": "Roe", "given_name": "Sam", "date_of_birth": "1979-09-09"}
    records = [
        by_identity(arrest("", index - timedelta(days=20)), **named),
        by_identity(arrest("", compared + timedelta(days=5)), **other),
        by_identity(arrest("", compared - timedelta(days=5)), rms_agency="SPD", rms_person_id="P-300"),
    ]
    comparison = [
        {"index_date": compared.isoformat()} | other,
        {"index_date": compared.isoformat(), "rms_agency": "SPD", "rms_person_id": "P-300"},
    ]

    report = await outcomes(client, window_ | {"records": records, "comparison": comparison}, evaluator)

    assert (report["participants"], report["comparison"], report["overlap"]) == (1, 2, 0)
    assert (report["records"], report["records_by_identity"], report["records_matched"]) == (3, 3, 3)
    measures = {(m["group"], m["measure"], m["months"]): m for m in report["measures"]}
    assert measures["participants", "arrests", 6]["total_before"] == 1
    assert (
        measures["comparison", "arrests", 6]["total_before"],
        measures["comparison", "arrests", 6]["total_after"],
    ) == (
        1,
        1,
    )
    # the same participant by the key the extract gave: the same measures
    keyed = [arrest(row["person_key"], index - timedelta(days=20))]
    again = await outcomes(client, window_ | {"records": keyed, "comparison": []}, evaluator)
    assert again["measures"][:4] == report["measures"][:4]  # participants' rows
    audited = str(await rows(audit_log))
    assert "Roe" not in audited and "1988-04-05" not in audited and "P-300" not in audited


async def test_one_person_twice_in_the_comparison_group_by_identity_is_422_naming_the_item(client, evaluator) -> None:
    person = {"index_date": "2025-01-01", "rms_agency": "SPD", "rms_person_id": "P-9"}
    body = {
        "from": "2026-01-01T00:00:00Z",
        "to": "2026-02-01T00:00:00Z",
        "records": [],
        "comparison": [person, person | {"rms_agency": "spd"}],
    }

    response = await client.post(OUTCOMES, json=body, headers=evaluator)

    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == ["body.comparison.1"]
    assert "P-9" not in response.text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"records": [arrest("not-a-key", date(2025, 1, 1))]}, "body.records.0.person_key"),
        (
            {"records": [arrest("a" * 64, date(2025, 1, 1)) | {"rms_agency": "SPD", "rms_person_id": "P-9"}]},
            "body.records.0",
        ),
        ({"records": [by_identity(arrest("a" * 64, date(2025, 1, 1)))]}, "body.records.0"),
        ({"records": [by_identity(arrest("a" * 64, date(2025, 1, 1)), rms_agency="SPD")]}, "body.records.0"),
        (
            {"records": [by_identity(arrest("a" * 64, date(2025, 1, 1)), family_name="Diaz", given_name="Ana")]},
            "body.records.0",
        ),
        ({"comparison": [{"index_date": "2025-01-01"}]}, "body.comparison.0"),
        (
            {
                "comparison": [
                    {"index_date": "2025-01-01", "person_key": "a" * 64, "rms_agency": "S", "rms_person_id": "1"}
                ]
            },
            "body.comparison.0",
        ),
        (
            {"comparison": [{"index_date": "2025-01-01", "rms_agency": "SPD", "rms_person_id": "P\u0000"}]},
            "body.comparison.0.rms_person_id",
        ),
        (
            {"comparison": [{"index_date": "2025-01-01", "rms_agency": "SPD", "rms_person_id": "P" * 65}]},
            "body.comparison.0.rms_person_id",
        ),
        ({"records": [arrest("a" * 64, date(2025, 1, 1), kind="citation")]}, "body.records.0.kind"),
        (
            {"records": [{"person_key": "a" * 64, "date": "2025-13-01", "kind": "arrest", "felony": False}]},
            "body.records.0.date",
        ),
        ({"comparison": [{"person_key": "a" * 64, "index_date": "2025-01-01"}] * 2}, "body.comparison.1.person_key"),
        ({"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "body.to"),
        ({"records": [arrest("a" * 64, date(2025, 1, 1))] * 5001}, "body.records"),
    ],
    ids=[
        "key",
        "key-and-identity",
        "neither",
        "agency-only",
        "names-without-birth-date",
        "comparison-neither",
        "comparison-both",
        "control-character",
        "too-long",
        "kind",
        "date",
        "duplicate",
        "window",
        "too-many",
    ],
)
async def test_bad_uploads_are_422_naming_the_field(client, evaluator, change, field) -> None:
    body = {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z", "records": [], "comparison": []} | change

    response = await client.post(OUTCOMES, json=body, headers=evaluator)

    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == [field]


async def test_case_managers_get_no_extract_and_no_measures(client, caseload) -> None:
    assert (await client.get(EXTRACT, params=window(caseload))).status_code == 403
    assert (await client.post(OUTCOMES, json=outcomes_body(caseload, [], []))).status_code == 403
