"""The program manager's dashboard shows the reports APIs' numbers, and its CSVs hold the same.

Every cell carrying `data-metric` names the API field it shows, as the report and a JSON path
(`intake.total.counts.accepted`, `assessment.groups.0.enrolled.percent`); each is compared with the
JSON the reports APIs answer the same program manager's token for the same window and breakdown.
"""

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from divert_local.journey import assessment_of, wait_for
from divert_local.stack import Stack
from tests.browser.pages import IDENTITIES, Console, Tokens

PROGRAM_MANAGER = IDENTITIES["program_manager"]
CASE_MANAGER = IDENTITIES["case_manager"]
Reports = dict[str, Any]


def _month_start(month: str) -> datetime:
    """The first instant of a `YYYY-MM` month, in UTC (the dashboard's months are UTC's)."""
    first = date.fromisoformat(f"{month}-01")
    return datetime(first.year, first.month, 1, tzinfo=UTC)


def _after(month: str) -> datetime:
    start = _month_start(month)
    return (start + timedelta(days=32)).replace(day=1)


def _reports(stack: Stack, tokens: Tokens, first: str, last: str, by: str) -> Reports:
    """The reports APIs' answers for whole months `first`..`last` (included), by `by`."""
    window = {"from": _month_start(first).isoformat(), "to": _after(last).isoformat(), "by": by}
    answers = {}
    with tokens.client(PROGRAM_MANAGER) as http:
        for source, url in (
            ("assessment", f"{stack.url('assessment')}/v1/reports/funnel"),
            ("intake", f"{stack.url('intake')}/v1/reports/referrals"),
        ):
            response = http.get(url, params=window)
            assert response.status_code == 200, f"{url}: {response.status_code} {response.text}"
            answers[source] = response.json()
    return answers


def _resolve(reports: Reports, metric: str) -> Any:
    """The API value a `data-metric` names: `<source>.<JSON path>` (`intake.total.counts.accepted`,
    `assessment.groups.0.enrolled.percent`), the source being the report it came from."""
    source, *path = metric.split(".")
    node = reports[source]
    for name in path:
        node = node[int(name)] if isinstance(node, list) else node[name]
    return node


def _shown(value: Any) -> str:
    """How the page writes an API value."""
    return "—" if value is None else str(value)


def _cells(console: Console) -> list[tuple[str, str]]:
    cells = console.page.locator("[data-metric]")
    return [(str(cell.get_attribute("data-metric")), cell.inner_text().strip()) for cell in cells.all()]


def _mismatches(cells: list[tuple[str, str]], reports: Reports) -> list[str]:
    wrong = []
    for metric, text in cells:
        try:
            expected = _shown(_resolve(reports, metric))
        except (KeyError, IndexError, ValueError, TypeError) as error:
            wrong.append(f"{metric}: not in the reports APIs' answer ({error!r})")
            continue
        if text != expected:
            wrong.append(f"{metric}: page shows {text!r}, the API {expected!r}")
    return wrong


def _seed(stack: Stack, tokens: Tokens, refer: Callable[..., str]) -> None:
    """Three referrals this month; one is assessed (through the API: this test reads the dashboard)."""
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    referral_ids = [refer(name, referred_at=an_hour_ago) for name in ("Drew", "Emery", "Finley")]
    with tokens.client(CASE_MANAGER) as http:
        case = f"{stack.url('assessment')}/v1/cases/{referral_ids[0]}"
        wait_for("the case to open", lambda: http.get(case).status_code == 200, timeout=30)
        response = http.post(f"{case}/assessment", json=assessment_of(datetime.now(UTC) - timedelta(minutes=1)))
        assert response.status_code == 201, response.text


def test_dashboard_numbers_are_the_reports_apis(
    console: Console, stack: Stack, tokens: Tokens, refer: Callable[..., str], tmp_path: Path
) -> None:
    _seed(stack, tokens, refer)
    console.sign_in(PROGRAM_MANAGER)
    this_month = datetime.now(UTC).strftime("%Y-%m")
    first = console.page.get_by_label("From month").input_value()
    last = console.page.get_by_label("To month (included)").input_value()
    assert last == this_month, f"the dashboard shows up to {last}, not this month"
    by = console.page.get_by_label("Break down by").input_value()

    # The services catch up with one another through events: compare once the numbers are settled,
    # i.e. the API answered the same just before and just after the page was drawn.
    def compared() -> list[str] | None:
        before = _reports(stack, tokens, first, last, by)
        if not (before["assessment"].get("total") or before["assessment"]).get("assessed"):
            return None
        console.page.reload()
        cells = _cells(console)
        after = _reports(stack, tokens, first, last, by)
        if before != after:
            return None
        assert len(cells) >= 20, f"only {len(cells)} cells name their metric: {cells}"
        return _mismatches(cells, after) or ["same"]

    outcome = wait_for("the reports to settle", compared, timeout=60, interval=1)
    assert outcome == ["same"], "the dashboard differs from the reports APIs:\n" + "\n".join(outcome)
    metrics = {metric for metric, _ in _cells(console)}
    assert any(metric.startswith("intake.") for metric in metrics), "no cell from intake's referrals report"
    assert any(metric.startswith("assessment.") for metric in metrics), "no cell from assessment's funnel"
    assert any(".groups." in metric for metric in metrics), "no breakdown cell"
    expect(console.page.locator("img.chart")).not_to_have_count(0)
    console.check("dashboard")
    console.publish("dashboard", "console-dashboard.png")

    # The cases table as CSV: the same rows, the same numbers as the page (and so as the API).
    section = console.page.locator("section", has=console.page.locator("table#cases"))
    with console.page.expect_download() as download:
        section.get_by_role("link", name="Download CSV").click()
    saved = tmp_path / "cases.csv"
    download.value.save_as(saved)
    assert download.value.suggested_filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8"))))
    shown = [
        [cell.strip() for cell in row.locator("th, td").all_inner_texts()]
        for row in console.page.locator("table#cases tr").all()
    ]
    assert rows[0] == shown[0], (rows[0], shown[0])
    assert [[cell or "—" for cell in row] for row in rows[1:]] == shown[1:]
    reports = _reports(stack, tokens, first, last, by)
    referred = next(row for row in rows if row[0] == "Referred")
    assert int(referred[1]) == _resolve(reports, "assessment.referred") >= 3
