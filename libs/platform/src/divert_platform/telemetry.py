"""OpenTelemetry set-up: one tracer provider per process, W3C trace context everywhere.

Spans go over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, otherwise to a JSON-lines file per
process under the data directory (`.divert/traces/`). Span attributes never carry personal data:
only ids, types and states; `PrivateDataScrubber` removes what instrumentation would add anyway
(query strings, exception messages).
"""

import logging
import re
import traceback
from collections.abc import Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.context import Context
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, Decision, ParentBased, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind, Status, StatusCode, TraceState
from opentelemetry.util.types import Attributes
from pythonjsonlogger.json import JsonFormatter

from divert_platform.statement_tally import tally_statements

_configured: TracerProvider | None = None

current_role: ContextVar[str | None] = ContextVar("divert_current_role", default=None)
"""The role whose task is running, where a process runs several (`divert-<svc> all`): spans and
log lines made under it name that role rather than the process's `all` (tasks inherit it)."""


def configure_telemetry(
    service_name: str, role: str, *, otlp_endpoint: str | None, data_dir: Path, exporter: SpanExporter | None = None
) -> TracerProvider:
    """Install the process's tracer provider and client instrumentation (once per process)."""
    global _configured
    if _configured is not None:
        return _configured
    provider = TracerProvider(
        resource=Resource.create({"service.name": f"divert-{service_name}", "divert.role": role}),
        # A caller's `traceparent` saying "not sampled" (an RMS's own tracer, say) must not switch
        # off the referral's trace here: Divert records every referral's journey.
        sampler=ParentBased(root=NoRootClientSpans(), remote_parent_not_sampled=ALWAYS_ON),
    )
    provider.add_span_processor(RoleOfTask())
    # Before the exporter's, so every processor added after it (a test's) sees the scrubbed span.
    provider.add_span_processor(PrivateDataScrubber())
    provider.add_span_processor(
        BatchSpanProcessor(exporter or _default_exporter(service_name, role, otlp_endpoint, data_dir))
    )
    trace.set_tracer_provider(provider)
    # No Kafka client instrumentation: the relay and the consumers make their own spans (a span
    # per record sent or received cost as much as the work; relay.publish_spans, consumer.handle).
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    # Statements are counted into the span that ran them, not traced one by one (statement_tally.py).
    tally_statements()
    _configured = provider
    configure_json_logs(service_name, role)
    return provider


class NoRootClientSpans(Sampler):
    """Keeps every span except a CLIENT span that would start a trace of its own.

    A query or call made outside any request, message or workflow is background chatter (the
    relay polling its outbox every 200 ms, a connection check) and would bury the referral traces;
    the same query inside a request's trace is kept, as its child.
    """

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        if kind == SpanKind.CLIENT:
            return SamplingResult(Decision.DROP)
        return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes)

    def get_description(self) -> str:
        return "NoRootClientSpans"


class RoleOfTask(SpanProcessor):
    """Sets `divert.role` on each span started under `current_role` (a span made in a thread of its
    own, a workflow's, keeps the resource's role alone)."""

    def on_start(self, span: Any, parent_context: Context | None = None) -> None:
        role = current_role.get()
        if role is not None:
            span.set_attribute("divert.role", role)


# A query string carries filter values (case numbers, referral ids, names in a search).
_QUERY_ATTRIBUTES = frozenset({"url.query", "http.query"})
_URL_ATTRIBUTES = frozenset({"url.full", "http.url", "http.target"})
# The message and the traceback (which ends with the message) quote whatever the exception was given:
# a statement's parameters, a validation error's input. The type says enough to find the fault.
_EXCEPTION_TEXT = frozenset({"exception.message", "exception.stacktrace"})
# A status description Divert sets itself ("dead-lettered", "refused"); any other (an exception's
# text, a DB-API error that quotes the value it rejected) is replaced.
_OWN_REASON = re.compile(r"[a-z][a-z -]*")


class PrivateDataScrubber(SpanProcessor):
    """Removes from each ended span what instrumentation records that could quote personal data.

    Query strings go from `url.query`, `url.full`, `http.url` and `http.target`; exception events
    keep their `exception.type` but lose message and stacktrace; an error status whose description
    is not one of Divert's own reasons is described by its exception type alone.

    It edits the ended span in place (the SDK gives no public way to), so it must be the provider's
    first processor: processors run in the order they were added, and the ones after it export
    the scrubbed span.
    """

    def on_end(self, span: ReadableSpan) -> None:
        # Private fields of the SDK's ReadableSpan, unchanged since 1.0 (test_platform_private_data
        # fails if they move). Each is replaced only when there is something to remove, so the common
        # span keeps its own objects (and its dropped-attribute count).
        attributes = _scrubbed_attributes(span.attributes)
        if attributes is not None:
            span._attributes = attributes
        span._status = _scrubbed_status(span.status, span.events)
        if any(event.name == "exception" for event in span.events):
            span._events = [_scrubbed_event(event) for event in span.events]


def _scrubbed_attributes(attributes: Attributes) -> BoundedAttributes | None:
    """The attributes without query strings; None when they have none to remove."""
    if not any(key in _QUERY_ATTRIBUTES or key in _URL_ATTRIBUTES for key in attributes or {}):
        return None
    kept = {
        key: value.split("?", 1)[0] if key in _URL_ATTRIBUTES and isinstance(value, str) else value
        for key, value in (attributes or {}).items()
        if key not in _QUERY_ATTRIBUTES
    }
    return BoundedAttributes(maxlen=None, attributes=kept, immutable=True)


def _scrubbed_event(event: Event) -> Event:
    if event.name != "exception":
        return event
    kept = {key: value for key, value in (event.attributes or {}).items() if key not in _EXCEPTION_TEXT}
    return Event(event.name, BoundedAttributes(maxlen=None, attributes=kept, immutable=True), event.timestamp)


def _scrubbed_status(status: Status, events: Sequence[Event]) -> Status:
    description = status.description
    if status.status_code is not StatusCode.ERROR or not description or _OWN_REASON.fullmatch(description):
        return status
    types = [
        str(event.attributes["exception.type"])
        for event in events
        if event.attributes and "exception.type" in event.attributes
    ]
    return Status(StatusCode.ERROR, types[-1].rsplit(".", 1)[-1] if types else None)


class _TraceContext(logging.Filter):
    """Stamps each record with the current trace and span ids, so a log line leads to its trace, and
    with the role of the task that logged it where the process runs several."""

    def __init__(self, role: str) -> None:
        super().__init__()
        self._role = role

    def filter(self, record: logging.LogRecord) -> bool:
        record.role = current_role.get() or self._role
        context = trace.get_current_span().get_span_context()
        record.trace_id = format(context.trace_id, "032x") if context.is_valid else None
        record.span_id = format(context.span_id, "016x") if context.is_valid else None
        return True


class PrivateJsonFormatter(JsonFormatter):
    """The JSON log formatter, whose tracebacks name each exception's type and frames but never its
    message: an exception's text may quote a value (a database error naming the rejected input, a
    validation error's `input_value=`), and log stores are not where personal data may go."""

    def formatException(self, ei: Any) -> str:
        _, error, _ = ei
        chain, seen = [], set()
        while error is not None and id(error) not in seen:
            seen.add(id(error))
            frames = "".join(
                f"\n  at {frame.filename}:{frame.lineno} in {frame.name}"
                for frame in traceback.extract_tb(error.__traceback__)
            )
            chain.append(f"{type(error).__module__}.{type(error).__qualname__}{frames}")
            error = error.__cause__ or error.__context__
        return "\ncaused by ".join(chain)


def configure_json_logs(service_name: str, role: str) -> None:
    """One JSON object per log line on stderr: time, level, logger, message, trace and span ids.

    Log calls pass ids and types only, never personal data (see the consumer and problem
    handlers), so these lines can go to any log store.
    """
    handler = logging.StreamHandler()
    handler.setFormatter(
        PrivateJsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(trace_id)s %(span_id)s %(role)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            static_fields={"service": f"divert-{service_name}"},
        )
    )
    handler.addFilter(_TraceContext(role))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    # Libraries that would log personal data whatever the root's level: aiosqlite each statement
    # with its parameters (DEBUG), httpx each request's URL with its query string (INFO).
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _default_exporter(service_name: str, role: str, otlp_endpoint: str | None, data_dir: Path) -> SpanExporter:
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()  # reads OTEL_EXPORTER_OTLP_* itself
    trace_dir = data_dir / "traces"
    trace_dir.mkdir(parents=True, exist_ok=True)
    # Block-buffered: the exporter flushes after each batch, one write instead of one per span.
    stream = (trace_dir / f"{service_name}-{role}.jsonl").open("a", encoding="utf-8")
    return ConsoleSpanExporter(out=stream, formatter=_one_line)


def _one_line(span: ReadableSpan) -> str:
    # Encoded once, on one line: parsing the indented form again to compact it doubled the cost of
    # every span, about 9 for each referral POST (docs/performance.md).
    return str(span.to_json(indent=None)) + "\n"


def shutdown_telemetry() -> None:
    """Flush and close exporters before the process exits."""
    if _configured is not None:
        _configured.shutdown()
