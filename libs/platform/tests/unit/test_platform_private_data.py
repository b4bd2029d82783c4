"""No personal data reaches a span or a log line when a statement fails or a URL carries a query.

Real parts: the platform's engine on a SQLite file, its FastAPI instrumentation, the process's
tracer provider as `configure_telemetry` sets it up; spans are read from an in-memory exporter
added after it, as any exporter is.
"""

import io
import json
import logging
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from divert_platform.db import create_engine
from divert_platform.statement_tally import ERRORS, STATEMENTS
from divert_platform.telemetry import PrivateJsonFormatter

NAME, BORN, CASE_NUMBER = "Avery Quinn", "1990-02-03", "SPD-24-001234"


def exported(spans: InMemorySpanExporter) -> str:
    """Every exported span whole (name, attributes, events, status), as the trace files hold it."""
    return "\n".join(span.to_json(indent=None) for span in spans.get_finished_spans())


async def insert_the_same_person_twice(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE people (name TEXT UNIQUE, born TEXT)"))
    person = {"name": NAME, "born": BORN}
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO people VALUES (:name, :born)"), person)
        await connection.execute(text("INSERT INTO people VALUES (:name, :born)"), person)


async def test_without_hidden_parameters_a_failed_statement_quotes_the_person(tmp_path: Path) -> None:
    """The leak the platform's engine closes: SQLAlchemy's own default puts the values in the error."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'plain.db'}")
    try:
        with pytest.raises(IntegrityError) as failure:
            await insert_the_same_person_twice(engine)
    finally:
        await engine.dispose()
    assert NAME in str(failure.value) and BORN in str(failure.value)


async def test_a_failed_statement_quotes_no_person_in_spans_or_logs(
    provider: TracerProvider, spans: InMemorySpanExporter, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'divert.db'}")
    tracer = provider.get_tracer("test")
    caplog.set_level(logging.DEBUG)
    try:
        # Inside a request's span, as in a service, which counts the statements it ran.
        with pytest.raises(IntegrityError) as failure:
            with tracer.start_as_current_span("POST /v1/people", kind=SpanKind.SERVER):
                try:
                    await insert_the_same_person_twice(engine)
                except IntegrityError:
                    logging.getLogger("divert.test").exception("could not record the person")
                    raise
    finally:
        await engine.dispose()

    assert "UNIQUE constraint failed" in str(failure.value)  # the error itself still says what went wrong
    assert NAME not in str(failure.value) and BORN not in str(failure.value)
    logged = "\n".join(f"{record.getMessage()}\n{caplog.text}" for record in caplog.records)
    assert "UNIQUE constraint failed" in logged
    assert NAME not in logged and BORN not in logged

    finished = spans.get_finished_spans()
    assert [span.name for span in finished] == ["POST /v1/people"]  # statements are counted, not spans
    request = finished[0]
    # BEGIN, CREATE TABLE; BEGIN, INSERT and the INSERT that failed, which is counted as such.
    assert request.attributes is not None
    assert (request.attributes[STATEMENTS], request.attributes[ERRORS]) == (5, 1)
    assert [event.attributes["exception.type"] for event in request.events if event.attributes] == [
        "sqlalchemy.exc.IntegrityError"
    ]
    assert request.status.description == "IntegrityError"
    assert NAME not in exported(spans) and BORN not in exported(spans)


async def test_a_query_string_and_an_exception_message_reach_no_http_span_or_log(
    provider: TracerProvider, spans: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    app = FastAPI()

    @app.get("/v1/cases")
    async def find(case_number: str) -> dict[str, str]:
        if case_number == CASE_NUMBER:
            raise ValueError(f"no case {case_number} for {NAME}")
        return {}

    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, exclude_spans=["receive", "send"])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://divert.test") as http:
        found = await http.get("/v1/cases", params={"case_number": "SPD-24-000001"})
        failed = await http.get("/v1/cases", params={"case_number": CASE_NUMBER})
    assert (found.status_code, failed.status_code) == (200, 500)

    servers = [span for span in spans.get_finished_spans() if span.kind == SpanKind.SERVER]
    assert len(servers) == 2
    for span in servers:
        assert span.attributes is not None
        assert "url.query" not in span.attributes
        assert span.attributes.get("http.url", span.attributes.get("url.full")) == "http://divert.test/v1/cases"
    exceptions = [event for span in servers for event in span.events if event.name == "exception"]
    assert exceptions and all(
        event.attributes == {"exception.type": "ValueError", "exception.escaped": "False"} for event in exceptions
    )
    assert "SPD-24-000001" not in exported(spans)
    assert "/v1/cases" in exported(spans)
    assert "SPD-24-000001" not in caplog.text and CASE_NUMBER not in caplog.text  # httpx logs request URLs
    assert CASE_NUMBER not in exported(spans) and NAME not in exported(spans)


def test_a_logged_traceback_names_the_exception_types_and_frames_but_never_their_messages() -> None:
    """An exception's text may quote a value; the log line keeps what an engineer needs to find
    the fault (types, chain, file and line) and drops the text."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(PrivateJsonFormatter("%(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("divert.test.private-tracebacks")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ValueError("invalid date of birth for Avery Quinn: 1990-02-03")
        except ValueError as error:
            raise RuntimeError("could not store the referral of Avery Quinn") from error
    except RuntimeError:
        logger.exception("unhandled error")
    finally:
        logger.removeHandler(handler)

    [line] = stream.getvalue().splitlines()
    record = json.loads(line)
    assert record["message"] == "unhandled error"
    assert "builtins.RuntimeError" in record["exc_info"] and "caused by builtins.ValueError" in record["exc_info"]
    assert "test_platform_private_data.py" in record["exc_info"]
    assert "Avery" not in line and "1990-02-03" not in line
