"""The program manager's dashboard: the funnel and the rates programs report, by month, pathway,
precinct or policy version, with charts, the deadlines of the coming week, and a CSV of every table.

Every number is the reports APIs' (intake's referrals report, assessment's case funnel): the page
arranges them and computes nothing a reader could not check against those APIs.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from divert_console.adapters.charts import bar_chart
from divert_console.adapters.services_api import ServicesApi
from divert_console.entrypoints.tables import Column, Table, as_csv
from divert_console.entrypoints.web import Viewer, allow, parts, render

router = APIRouter()

ProgramManager = Annotated[Viewer, allow("program_manager")]
Breakdown = Literal["month", "pathway", "precinct", "policy_version"]
MONTHS_SHOWN = 6
DEADLINE_DAYS = 7


@dataclass(frozen=True)
class Window:
    """Whole months: from the first day of `first` up to, not including, the month after `last`."""

    first: date
    last: date

    @classmethod
    def parse(cls, first: str | None, last: str | None, today: date) -> "Window":
        """Months as `YYYY-MM` (what an <input type=month> sends); the last six months by default."""
        end = _month(last) if last else today.replace(day=1)
        start = _month(first) if first else _add_months(end, -(MONTHS_SHOWN - 1))
        if start > end:
            start, end = end, start
        return cls(start, end)

    @property
    def start(self) -> datetime:
        return datetime(self.first.year, self.first.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        following = _add_months(self.last, 1)
        return datetime(following.year, following.month, 1, tzinfo=UTC)

    def query(self) -> dict[str, str]:
        """The API's window parameters."""
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def _month(value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m").date()
    except ValueError as error:
        raise BadMonth(value) from error


def _add_months(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


class BadMonth(ValueError):
    """A month that is not `YYYY-MM`."""


async def _reports(api: ServicesApi, person: Viewer, window: Window, by: Breakdown) -> dict[str, Any]:
    query = window.query()
    funnel = await api.get(person.token, "assessment", "/v1/reports/funnel", params={**query, "by": by})
    referrals = await api.get(person.token, "intake", "/v1/reports/referrals", params={**query, "by": by})
    deadlines = await api.get(person.token, "intake", "/v1/reports/deadlines", params={"within_days": DEADLINE_DAYS})
    return {"funnel": funnel, "referrals": referrals, "deadlines": deadlines}


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _is_rate(value: Any) -> bool:
    return isinstance(value, dict) and "count" in value and "percent" in value


def measures(prefix: str, counts: dict[str, Any]) -> list[dict[str, Any]]:
    """A report's counts as rows (measure, count, percent); `metrics` names the JSON path of the API's
    answer each cell shows (`<prefix>.<field>[.<kind>]`), so anyone can check the page against the API.
    Breakdowns by kind or reason become one row per kind."""
    rows: list[dict[str, Any]] = []
    for name, value in counts.items():
        path = f"{prefix}.{name}"
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float) or value is None:
            rows.append({"measure": _label(name), "count": value, "percent": None, "metrics": {"count": path}})
        elif _is_rate(value):
            row = {
                "measure": _label(name),
                "count": value["count"],
                "percent": value["percent"],
                "metrics": {"count": f"{path}.count", "percent": f"{path}.percent"},
            }
            if "denominator" in value:  # intake names what each rate is of
                row["denominator"] = value["denominator"]
                row["metrics"]["denominator"] = f"{path}.denominator"
            rows.append(row)
        elif isinstance(value, dict) and all(isinstance(v, int) for v in value.values()):
            rows.extend(
                {
                    "measure": f"{_label(name)}: {kind.replace('_', ' ')}",
                    "count": count,
                    "percent": None,
                    "metrics": {"count": f"{path}.{kind}"},
                }
                for kind, count in value.items()
            )
    return rows


_NOT_COUNTS = {"jurisdiction", "referred_from", "referred_to", "by", "groups", "total", "key", "time_zone"}


def sections(prefix: str, row: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """A report row's counts with their JSON path: intake nests them (`counts`, `rates`), assessment does not."""
    if isinstance(row.get("counts"), dict):
        return [(f"{prefix}.counts", row["counts"]), (f"{prefix}.rates", row.get("rates") or {})]
    return [(prefix, {k: v for k, v in row.items() if k not in _NOT_COUNTS})]


def totals(source: str, report: dict[str, Any]) -> list[dict[str, Any]]:
    """The window's totals as measure rows: intake's `total` row, or assessment's top-level counts."""
    if isinstance(report.get("total"), dict):
        found = sections(f"{source}.total", report["total"])
    else:
        found = sections(source, report)
    return [row for prefix, counts in found for row in measures(prefix, counts)]


def breakdown(table_id: str, caption: str, source: str, report: dict[str, Any], by: str) -> Table:
    """One row per group of a report's breakdown, one column per count (rates as their count and percent)."""
    columns = [Column("key", _label(by), numeric=False)]
    seen: set[str] = set()
    rows = []
    for place, group in enumerate(report.get("groups") or []):
        key = group.get("key")
        row: dict[str, Any] = {"key": "none recorded" if key is None else str(key), "metrics": {}}
        for prefix, counts in sections(f"{source}.groups.{place}", group):
            for item in measures(prefix, counts):
                column = item["metrics"]["count"].removeprefix(prefix + ".").removesuffix(".count")
                cells = [(column, item["measure"], item["count"], item["metrics"]["count"])]
                if item["percent"] is not None or "percent" in item["metrics"]:
                    cells.append((f"{column} %", f"{item['measure']} (%)", item["percent"], item["metrics"]["percent"]))
                for name, label, value, path in cells:
                    row[name] = value
                    row["metrics"][name] = path
                    if name not in seen:
                        seen.add(name)
                        columns.append(Column(name, label))
        rows.append(row)
    note = f"Months in {report.get('time_zone') or 'UTC'}, as the API counts them." if by == "month" else ""
    return Table(table_id, caption, columns, rows, note)


@dataclass(frozen=True)
class Dashboard:
    """Everything the page shows, as tables (each also a CSV) and charts."""

    tables: list[Table]
    charts: list[tuple[str, str]]
    """(alternative text, data: URI) of each chart."""


FUNNEL_COLUMNS = [
    Column("measure", "Measure", numeric=False),
    Column("count", "Count"),
    Column("denominator", "Of"),
    Column("percent", "Percent"),
]
DEADLINE_COLUMNS = [
    Column("referral_id", "Referral", numeric=False),
    Column("pathway", "Pathway", numeric=False),
    Column("precinct", "Precinct", numeric=False),
    Column("agency", "Police agency", numeric=False),
    Column("due_by", "Due", numeric=False),
    Column("days_left", "Days left"),
    Column("status", "Status", numeric=False),
]


async def build(api: ServicesApi, person: Viewer, window: Window, by: Breakdown) -> Dashboard:
    """The dashboard for a window and breakdown, from the reports APIs."""
    reports = await _reports(api, person, window, by)
    referrals = Table(
        "referrals", "Referrals: from the police to a case", FUNNEL_COLUMNS, totals("intake", reports["referrals"])
    )
    cases = Table(
        "cases", "Cases: from opening to enrolment and closure", FUNNEL_COLUMNS, totals("assessment", reports["funnel"])
    )
    deadlines = Table(
        "deadlines",
        f"Assessments due in the next {DEADLINE_DAYS} days",
        DEADLINE_COLUMNS,
        list(reports["deadlines"].get("items", [])),
    )
    tables = [
        referrals,
        cases,
        breakdown("referrals-by", f"Referrals by {_label(by).lower()}", "intake", reports["referrals"], by),
        breakdown("cases-by", f"Cases by {_label(by).lower()}", "assessment", reports["funnel"], by),
        deadlines,
    ]
    return Dashboard(tables, _charts(reports, by))


def _charts(reports: dict[str, Any], by: str) -> list[tuple[str, str]]:
    stages = [
        (row["measure"], row["count"])
        for row in totals("assessment", reports["funnel"])
        if ":" not in row["measure"] and isinstance(row["count"], int)
    ]
    charts = [
        (
            "Bar chart of the case funnel; the numbers are in the Cases table.",
            bar_chart("Case funnel", [label for label, _ in stages], {"Cases": [count for _, count in stages]}),
        )
    ]
    groups = reports["funnel"].get("groups") or []
    if groups:
        keys = ["none recorded" if group.get("key") is None else str(group["key"]) for group in groups]
        series = {
            "Referred": [group.get("referred") for group in groups],
            "Assessed": [group.get("assessed") for group in groups],
            "Enrolled": [(group.get("enrolled") or {}).get("count") for group in groups],
        }
        charts.append(
            (
                f"Bar chart of cases referred, assessed and enrolled by {_label(by).lower()}; the numbers are in the "
                "Cases by table.",
                bar_chart(f"Cases by {_label(by).lower()}", keys, series),
            )
        )
    return charts


@router.get("/dashboard")
async def dashboard(
    request: Request,
    person: ProgramManager,
    first: Annotated[str | None, Query(alias="from", max_length=7)] = None,
    last: Annotated[str | None, Query(alias="to", max_length=7)] = None,
    by: Breakdown = "month",
) -> Response:
    """The program's numbers for whole months (the last six by default), broken down by `by`."""
    try:
        window = Window.parse(first, last, datetime.now(UTC).date())
    except BadMonth:
        window = Window.parse(None, None, datetime.now(UTC).date())
        return render(
            request,
            "dashboard.html",
            person,
            422,
            title="Program dashboard",
            window=window,
            by=by,
            board=None,
            error="Months are written YYYY-MM, e.g. 2026-07.",
        )
    board = await build(parts(request).api, person, window, by)
    return render(
        request,
        "dashboard.html",
        person,
        title="Program dashboard",
        window=window,
        by=by,
        board=board,
        error=None,
        query=f"from={window.first:%Y-%m}&to={window.last:%Y-%m}&by={by}",
    )


@router.get("/dashboard/{table_id}.csv")
async def dashboard_csv(
    request: Request,
    person: ProgramManager,
    table_id: str,
    first: Annotated[str | None, Query(alias="from", max_length=7)] = None,
    last: Annotated[str | None, Query(alias="to", max_length=7)] = None,
    by: Breakdown = "month",
) -> Response:
    """One of the dashboard's tables as CSV, for the same window and breakdown."""
    try:
        window = Window.parse(first, last, datetime.now(UTC).date())
    except BadMonth:
        return Response("Months are written YYYY-MM.\n", status_code=422, media_type="text/plain")
    board = await build(parts(request).api, person, window, by)
    table = next((table for table in board.tables if table.id == table_id), None)
    if table is None:
        return Response("No such table.\n", status_code=404, media_type="text/plain")
    name = f"divert-{table.id}-{window.first:%Y-%m}-to-{window.last:%Y-%m}.csv"
    return Response(
        as_csv(table),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
