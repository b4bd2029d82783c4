"""The evaluator's export: the de-identified extract as CSV or Parquet with its data dictionary, and the
outcome measures for an uploaded file of arrests and charges.

Assessment's evaluation API makes the extract (pseudonymous person keys, Part 2 needs only under
consent) and computes the measures; it audits every call. This page pages through the extract, writes
the files, and turns the evaluator's CSV files into the API's request (nothing of them is kept).
"""

import csv
import io
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from divert_console.adapters.services_api import ApiProblem, ServicesApi
from divert_console.entrypoints.dashboard import BadMonth, Window
from divert_console.entrypoints.tables import Column, Table, as_csv
from divert_console.entrypoints.web import Viewer, allow, parts, render, require_csrf

router = APIRouter()

Evaluator = Annotated[Viewer, allow("program_manager", "evaluator")]
PURPOSE = "program evaluation"
MAX_PAGES = 200
"""At most this many pages of the extract in one file (200,000 cases): a guard, not a limit programs meet."""
MAX_UPLOAD_BYTES = 900_000
"""An uploaded file's size limit: the API takes a request of 1 MB at most."""


def _arrow_type(field: dict[str, Any]) -> Any:
    import pyarrow as pa  # about 30 MiB resident: loaded by the first Parquet export, not by every console

    scalar = {"string": pa.string(), "boolean": pa.bool_(), "integer": pa.int64(), "number": pa.float64()}
    if field["type"] == "array":
        return pa.list_(scalar[field.get("item_type") or "string"])
    if field.get("format") == "date-time":
        return pa.timestamp("us", tz="UTC")
    if field.get("format") == "date":
        return pa.date32()
    return scalar[field["type"]]


async def extract(api: ServicesApi, person: Viewer, window: Window) -> list[dict[str, Any]]:
    """Every row of the extract for the window, page after page."""
    rows: list[dict[str, Any]] = []
    cursor = None
    for _ in range(MAX_PAGES):
        page = await api.get(
            person.token,
            "assessment",
            "/v1/reports/evaluation",
            params={**window.query(), "cursor": cursor},
            purpose=PURPOSE,
        )
        rows.extend(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return rows
    raise ApiProblem(413, "The extract is too large", "Choose a shorter window.")


SERVICES_REFERRED: dict[str, Any] = {
    "name": "services_referred",
    "type": "array",
    "item_type": "string",
    "format": None,
    "nullable": False,
    "description": (
        "The case's service referrals made from the start of the window to the export, oldest first, each "
        "`need:service_id:status` (the services directory's GET /v1/reports/service-referrals, joined on "
        "referral_id). Referrals to 42 CFR Part 2 services are never listed."
    ),
    "allowed_values": None,
}
"""The one column the console adds: the services directory's rows for each case of the extract."""


async def services_referred(api: ServicesApi, person: Viewer, window: Window) -> dict[str, list[str]]:
    """Each case's service referrals made since the window's start (the directory's window is on when a
    service referral was made, which is after the case's referral)."""
    found: dict[str, list[str]] = {}
    cursor = None
    params = {"from": window.start.isoformat(), "to": datetime.now(UTC).isoformat()}
    for _ in range(MAX_PAGES):
        page = await api.get(
            person.token,
            "directory",
            "/v1/reports/service-referrals",
            params={**params, "cursor": cursor},
            purpose=PURPOSE,
        )
        for item in page["items"]:
            found.setdefault(item["referral_id"], []).append(f"{item['need']}:{item['service_id']}:{item['status']}")
        cursor = page.get("next_cursor")
        if not cursor:
            return found
    raise ApiProblem(413, "The extract is too large", "Choose a shorter window.")


async def dictionary(api: ServicesApi, person: Viewer) -> list[dict[str, Any]]:
    """The extract's columns in order, as the API documents them, and the services referred."""
    answer = await api.get(person.token, "assessment", "/v1/reports/evaluation/dictionary")
    return [*answer["fields"], SERVICES_REFERRED]


def dictionary_table(fields: list[dict[str, Any]]) -> Table:
    """The data dictionary as a table (page and CSV)."""
    columns = [
        Column(key, key.replace("_", " ").capitalize(), numeric=False)
        for key in ("name", "type", "format", "nullable", "description", "allowed_values")
    ]
    rows = [
        {
            **field,
            "type": field["type"] + (f" of {field['item_type']}" if field.get("item_type") else ""),
            "allowed_values": ", ".join(field.get("allowed_values") or []),
        }
        for field in fields
    ]
    return Table("dictionary", "Data dictionary", columns, rows)


def as_rows_csv(fields: list[dict[str, Any]], rows: list[dict[str, Any]]) -> str:
    """The extract as CSV: the dictionary's columns in order; lists joined with `;`."""
    names = [field["name"] for field in fields]
    table = Table("extract", "Extract", [Column(name, name) for name in names])
    table.rows = [{name: ";".join(v) if isinstance(v := row.get(name), list) else v for name in names} for row in rows]
    return as_csv(table)


def as_parquet(fields: list[dict[str, Any]], rows: list[dict[str, Any]]) -> bytes:
    """The extract as Parquet, typed by the dictionary, each column described by its dictionary entry."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [
            pa.field(
                f["name"], _arrow_type(f), nullable=bool(f["nullable"]), metadata={"description": f["description"]}
            )
            for f in fields
        ]
    )
    columns: dict[str, list[Any]] = {field["name"]: [] for field in fields}
    for row in rows:
        for field in fields:
            value = row.get(field["name"])
            if value is not None and field.get("format") == "date-time":
                value = datetime.fromisoformat(value).astimezone(UTC)
            elif value is not None and field.get("format") == "date":
                value = datetime.fromisoformat(value).date()
            columns[field["name"]].append(value)
    out = io.BytesIO()
    pq.write_table(pa.table(columns, schema=schema), out)
    return out.getvalue()


def _window(first: str | None, last: str | None) -> Window:
    return Window.parse(first, last, datetime.now(UTC).date())


def _file_name(window: Window, suffix: str) -> str:
    return f"divert-evaluation-{window.first:%Y-%m}-to-{window.last:%Y-%m}.{suffix}"


@router.get("/evaluation")
async def evaluation(
    request: Request,
    person: Evaluator,
    first: Annotated[str | None, Query(alias="from", max_length=7)] = None,
    last: Annotated[str | None, Query(alias="to", max_length=7)] = None,
) -> Response:
    """The export's window, its downloads, the data dictionary, and the outcomes form."""
    try:
        window = _window(first, last)
    except BadMonth:
        window = _window(None, None)
    fields = await dictionary(parts(request).api, person)
    return render(
        request,
        "evaluation.html",
        person,
        title="Evaluation export",
        window=window,
        dictionary=dictionary_table(fields),
        results=None,
        errors={},
    )


@router.get("/evaluation/extract.{suffix}")
async def extract_file(
    request: Request,
    person: Evaluator,
    suffix: str,
    first: Annotated[str | None, Query(alias="from", max_length=7)] = None,
    last: Annotated[str | None, Query(alias="to", max_length=7)] = None,
) -> Response:
    """The extract as `csv` or `parquet`; the API records each page read in its audit trail."""
    if suffix not in ("csv", "parquet"):
        return Response("Ask for extract.csv or extract.parquet.\n", status_code=404, media_type="text/plain")
    try:
        window = _window(first, last)
    except BadMonth:
        return Response("Months are written YYYY-MM.\n", status_code=422, media_type="text/plain")
    api = parts(request).api
    fields = await dictionary(api, person)
    rows = await extract(api, person, window)
    referred = await services_referred(api, person, window)
    rows = [{**row, "services_referred": referred.get(str(row["referral_id"]), [])} for row in rows]
    disposition = {"Content-Disposition": f'attachment; filename="{_file_name(window, suffix)}"'}
    if suffix == "csv":
        return Response(as_rows_csv(fields, rows), media_type="text/csv; charset=utf-8", headers=disposition)
    return Response(as_parquet(fields, rows), media_type="application/vnd.apache.parquet", headers=disposition)


@router.get("/evaluation/dictionary.csv")
async def dictionary_file(request: Request, person: Evaluator) -> Response:
    """The data dictionary as CSV."""
    fields = await dictionary(parts(request).api, person)
    return Response(
        as_csv(dictionary_table(fields)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="divert-evaluation-dictionary.csv"'},
    )


class UploadProblem(ValueError):
    """An uploaded file that cannot be read; `field` names the form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


IDENTIFIERS: tuple[tuple[str, ...], ...] = (
    ("person_key",),
    ("rms_agency", "rms_person_id"),
    ("family_name", "given_name", "date_of_birth"),
)
"""The ways a row may say who it is about: the extract's person key, or an identity the API keys with
the program's secret (and discards). A file names the columns of one way or more; each row fills one."""


async def _csv_rows(upload: UploadFile | str | None, field: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """The file's rows: `columns`, and whichever identifying columns it has (empty cells left out)."""
    if not isinstance(upload, UploadFile):
        raise UploadProblem(field, "Choose a CSV file.")
    data = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadProblem(field, f"The file is over {MAX_UPLOAD_BYTES // 1000} KB: split it.")
    try:
        reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
        header = reader.fieldnames or []
        missing = [column for column in columns if column not in header]
        if missing:
            raise UploadProblem(field, f"The header row must name {', '.join(columns)}; missing: {', '.join(missing)}.")
        identifying = [name for way in IDENTIFIERS if all(column in header for column in way) for name in way]
        if not identifying:
            ways = "; or ".join(", ".join(way) for way in IDENTIFIERS)
            raise UploadProblem(field, f"The header row must name who each row is about: {ways}.")
        rows = []
        for row in reader:
            values = {column: (row.get(column) or "").strip() for column in (*identifying, *columns)}
            rows.append({key: value for key, value in values.items() if value or key in columns})
        return rows
    except (UnicodeDecodeError, csv.Error) as error:
        raise UploadProblem(field, f"Not a UTF-8 CSV file ({type(error).__name__}).") from error


def _upload_errors(problem: ApiProblem) -> dict[str, str]:
    """The API's fields (`body.records.12.date`) as the evaluator's files and rows (records file, row 14)."""
    errors: dict[str, str] = {}
    for name, message in problem.field_messages().items():
        parts_ = name.split(".")
        if parts_[0] in ("records", "comparison") and len(parts_) >= 2 and parts_[1].isdigit():
            column = f", column {parts_[2]}" if len(parts_) > 2 else ""
            errors.setdefault(parts_[0], f"Row {int(parts_[1]) + 2}{column}: {message}")
        elif parts_[0] in ("from", "to"):
            errors.setdefault("window", message)
        else:
            errors.setdefault("", f"{name}: {message}")
    if not errors:
        errors[""] = problem.detail or problem.title
    return errors


@router.post("/evaluation/outcomes")
async def outcomes(request: Request, person: Evaluator) -> Response:
    """Arrests and felony charges before and after referral, for participants and the comparison group,
    from two CSV files: records (who, date, kind, felony) and comparison (who, index_date), "who" being a
    person key or an identity (`IDENTIFIERS`) that the API keys and discards."""
    form = await request.form()
    require_csrf(request, form.get("csrf_token"))
    api = parts(request).api
    try:
        window = _window(str(form.get("from") or "") or None, str(form.get("to") or "") or None)
    except BadMonth:
        window = _window(None, None)
    errors: dict[str, str] = {}
    results = None
    try:
        records = await _csv_rows(form.get("records"), "records", ("date", "kind", "felony"))
        comparison = await _csv_rows(form.get("comparison"), "comparison", ("index_date",))
        body = {
            **window.query(),
            "records": [{**row, "felony": row["felony"].lower() in ("true", "yes", "1", "y")} for row in records],
            "comparison": comparison,
        }
        results = await api.send(person.token, "POST", "assessment", "/v1/reports/evaluation/outcomes", body)
    except UploadProblem as problem:
        errors[problem.field] = str(problem)
    except ApiProblem as problem:
        if problem.status >= 500:
            raise
        errors = _upload_errors(problem)
    fields = await dictionary(api, person)
    return render(
        request,
        "evaluation.html",
        person,
        422 if errors else 200,
        title="Evaluation export",
        window=window,
        dictionary=dictionary_table(fields),
        results=results,
        errors=errors,
    )
