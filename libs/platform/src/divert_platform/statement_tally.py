"""Database statements as figures of the span that caused them, not as spans of their own.

A span per statement (OpenTelemetry's SQLAlchemy instrumentation) cost more CPU than most of the
statements it timed, about a dozen spans for each referral POST, and buried a referral's journey
under `BEGIN`/`SELECT`/`INSERT` rows. Instead, the request, message or activity span in which a
statement runs counts it: `db.statements` (how many ran), `db.duration_ms` (their total time, from
the driver's call to its answer) and `db.system.name`; a statement that failed adds to
`db.errors`, and its exception is recorded once, by the span whose work failed. A statement run
outside any span (a relay's poll of its outbox) is counted nowhere, as it was traced nowhere.

No statement text and no bound value reaches a span: only counts, times and the dialect's name.
"""

from time import perf_counter
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from sqlalchemy import Connection, event
from sqlalchemy.engine import Engine, ExceptionContext

STATEMENTS = "db.statements"
DURATION_MS = "db.duration_ms"
ERRORS = "db.errors"
SYSTEM = "db.system.name"
_STARTED = "divert.statement_started"
_installed = False


def tally_statements() -> None:
    """Count every engine's statements into the current span (idempotent; engines made before and
    after the call alike: the listeners are the Engine class's)."""
    global _installed
    if _installed:
        return
    event.listen(Engine, "before_cursor_execute", _started)
    event.listen(Engine, "after_cursor_execute", _finished)
    event.listen(Engine, "handle_error", _failed)
    _installed = True


def _started(connection: Connection, *_: Any) -> None:
    connection.info[_STARTED] = perf_counter()


def _finished(connection: Connection, *_: Any) -> None:
    _count(connection, failed=False)


def _failed(context: ExceptionContext) -> None:
    if context.connection is not None:
        _count(context.connection, failed=True)


def _count(connection: Connection, *, failed: bool) -> None:
    started = connection.info.pop(_STARTED, None)
    span = trace.get_current_span()
    if started is None or not span.is_recording() or not isinstance(span, ReadableSpan):
        return
    seen = span.attributes or {}

    def so_far(key: str) -> float:
        value = seen.get(key)
        return value if isinstance(value, int | float) else 0

    figures: dict[str, Any] = {
        STATEMENTS: int(so_far(STATEMENTS)) + 1,
        DURATION_MS: round(so_far(DURATION_MS) + (perf_counter() - started) * 1000, 3),
        SYSTEM: connection.dialect.name,
    }
    if failed:
        figures[ERRORS] = int(so_far(ERRORS)) + 1
    span.set_attributes(figures)
