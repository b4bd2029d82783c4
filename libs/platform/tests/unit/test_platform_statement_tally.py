"""Database statements are counted into the span that ran them (statement_tally.py), on the
platform's real engine over a SQLite file, with the process's tracer provider."""

from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import text

from divert_platform.db import create_engine
from divert_platform.statement_tally import DURATION_MS, ERRORS, STATEMENTS, SYSTEM


async def test_each_span_counts_the_statements_it_ran_and_nothing_else_is_exported(
    provider: TracerProvider, spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'tally.db'}")
    tracer = provider.get_tracer("test")
    try:
        async with engine.begin() as connection:  # outside any span: counted nowhere
            await connection.execute(text("CREATE TABLE notes (body TEXT)"))
        with tracer.start_as_current_span("process divert.referrals"):
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO notes VALUES (:body)"), {"body": "ZZ-SECRET"})
                with tracer.start_as_current_span("inner step"):
                    await connection.execute(text("SELECT count(*) FROM notes"))
    finally:
        await engine.dispose()

    finished = {span.name: span for span in spans.get_finished_spans()}
    assert set(finished) == {"process divert.referrals", "inner step"}
    outer, inner = finished["process divert.referrals"].attributes, finished["inner step"].attributes
    assert outer is not None and inner is not None
    assert (outer[STATEMENTS], outer[SYSTEM], inner[STATEMENTS]) == (2, "sqlite", 1)  # BEGIN and INSERT; SELECT
    assert float(outer[DURATION_MS]) > 0 and ERRORS not in outer
    assert "ZZ-SECRET" not in "".join(span.to_json() for span in finished.values())
    assert "INSERT" not in "".join(span.to_json() for span in finished.values())  # no statement text
