"""The evaluator's export, in the browser: the extract as CSV and Parquet (no one's identity in
either), and the outcome measures from uploaded records, with a bad file's fault shown at its field.

The files are compared with the evaluation API's own answer for the same window, so a page that
only looked right would fail."""

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
from playwright.sync_api import expect

from divert_local.journey import wait_for
from divert_local.stack import Stack
from tests.browser.pages import IDENTITIES, Console, Tokens

EVALUATOR = IDENTITIES["evaluator"]
NAMES = ("Quillon", "Marisol")  # given names no other test uses: neither may appear in an export


def _extract_ids(stack: Stack, tokens: Tokens) -> set[str]:
    today = datetime.now(UTC)
    window = {"from": (today - timedelta(days=1)).isoformat(), "to": (today + timedelta(days=1)).isoformat()}
    with tokens.client(EVALUATOR) as http:
        response = http.get(f"{stack.url('assessment')}/v1/reports/evaluation", params=window)
    assert response.status_code == 200, response.text
    return {row["referral_id"] for row in response.json()["items"]}


def _download(console: Console, link: str, into: Path) -> Path:
    with console.page.expect_download() as started:
        console.page.get_by_role("link", name=link).click()
    path = into / started.value.suggested_filename
    started.value.save_as(path)
    return path


def test_the_extract_downloads_as_csv_and_parquet_without_anyones_identity(
    console: Console, stack: Stack, tokens: Tokens, refer: Callable[..., str], tmp_path: Path
) -> None:
    ids = {refer(name) for name in NAMES}
    wait_for("the cases to be opened", lambda: ids <= _extract_ids(stack, tokens), timeout=60)
    console.sign_in("evaluator")
    console.check("evaluation")

    text = _download(console, "Download the extract as CSV", tmp_path).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    by_id = {row["referral_id"]: row for row in rows}
    assert ids <= set(by_id), "the CSV lacks the cases referred"
    for name in (*NAMES, "Example", "1990-01-01", "+15555550100"):
        assert name not in text, f"{name!r} (a name, birth date or phone) is in the extract"
    assert {"person_key", "pathway", "precinct", "policy_version", "services_referred"} <= set(rows[0])
    for referral_id in ids:
        assert len(by_id[referral_id]["person_key"]) == 64

    table = pq.read_table(_download(console, "Download the extract as Parquet", tmp_path))
    parquet = {row["referral_id"]: row for row in table.to_pylist()}
    assert set(parquet) == set(by_id), "the Parquet and CSV files hold different cases"
    for referral_id in ids:
        assert parquet[referral_id]["person_key"] == by_id[referral_id]["person_key"]
    assert str(table.schema.field("referred_at").type).startswith("timestamp")

    dictionary = _download(console, "Download the data dictionary (CSV)", tmp_path).read_text(encoding="utf-8")
    described = {row["Name"] for row in csv.DictReader(io.StringIO(dictionary))}
    assert described == set(rows[0]), "every column of the extract is in the data dictionary, and no other"


def test_outcome_measures_from_uploaded_records_and_a_bad_file_named_at_its_field(
    console: Console, stack: Stack, tokens: Tokens, refer: Callable[..., str], tmp_path: Path
) -> None:
    referral_id = refer("Thaddeus")
    wait_for("the case to be opened", lambda: referral_id in _extract_ids(stack, tokens), timeout=60)
    with tokens.client(EVALUATOR) as http:
        today = datetime.now(UTC)
        window = {"from": (today - timedelta(days=1)).isoformat(), "to": (today + timedelta(days=1)).isoformat()}
        rows = http.get(f"{stack.url('assessment')}/v1/reports/evaluation", params=window).json()["items"]
    person = next(row["person_key"] for row in rows if row["referral_id"] == referral_id)
    index = date.today() - timedelta(days=90)
    before = date.today() - timedelta(days=30)
    # Rows say who they are about either way: by the extract's person key, or by an identity the API
    # keys and forgets (the participant was referred as "Thaddeus Example", born 1990-01-01).
    records = tmp_path / "records.csv"
    records.write_text(
        "person_key,family_name,given_name,date_of_birth,date,kind,felony\n"
        f"{person},,,,{before},arrest,false\n"
        f",Example,Thaddeus,1990-01-01,{before},charge,true\n"
        f",Nobody,Stranger,1980-05-05,{index - timedelta(days=10)},arrest,false\n"
    )
    comparison = tmp_path / "comparison.csv"
    comparison.write_text(f"family_name,given_name,date_of_birth,index_date\nNobody,Stranger,1980-05-05,{index}\n")

    console.sign_in("evaluator")
    form = console.page.locator("form", has=console.page.get_by_role("button", name="Compute the measures"))
    form.get_by_label("Arrest and charge records (CSV)").set_input_files(str(records))
    form.get_by_label("Comparison group (CSV)").set_input_files(str(comparison))
    with console.page.expect_navigation():
        form.get_by_role("button", name="Compute the measures").click()
    console.check("evaluation-outcomes")
    outcomes = console.page.locator("#outcomes")
    expect(outcomes).to_be_visible()
    cells = [[cell.inner_text() for cell in row.locator("td").all()] for row in outcomes.locator("tbody tr").all()]
    by = {(c[0], c[1], c[2]): c for c in cells}
    assert int(by[("participants", "arrests", "6")][4]) >= 1, cells  # the arrest 30 days before referral
    assert int(by[("participants", "felony charges", "12")][4]) >= 1, cells
    assert by[("comparison", "arrests", "6")][3:5] == ["1", "1"], cells  # one person, one arrest before

    records.write_text("person_key,when,kind\n")  # no `date` or `felony` column
    console.page.goto(console.url("/evaluation"))
    form.get_by_label("Arrest and charge records (CSV)").set_input_files(str(records))
    form.get_by_label("Comparison group (CSV)").set_input_files(str(comparison))
    with console.page.expect_navigation():
        form.get_by_role("button", name="Compute the measures").click()
    error = console.page.locator("#records-error")
    expect(error).to_contain_text("missing: date, felony")
    assert console.page.get_by_label("Arrest and charge records (CSV)").get_attribute("aria-invalid") == "true"
    console.check("evaluation-bad-file")
