"""OpenTelemetry set-up: one tracer provider per process, W3C trace context everywhere.

Spans go over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, otherwise to a JSON-lines file per
process under the data directory (`.divert/traces/`). Span attributes never carry personal data:
only ids, types and states.
"""

import json
import logging
from pathlib import Path

from opentelemetry import trace
from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

_configured: TracerProvider | None = None


def configure_telemetry(
    service_name: str, role: str, *, otlp_endpoint: str | None, data_dir: Path, exporter: SpanExporter | None = None
) -> TracerProvider:
    """Install the process's tracer provider and client instrumentation (once per process)."""
    global _configured
    if _configured is not None:
        return _configured
    provider = TracerProvider(resource=Resource.create({"service.name": f"divert-{service_name}", "divert.role": role}))
    provider.add_span_processor(
        BatchSpanProcessor(exporter or _default_exporter(service_name, role, otlp_endpoint, data_dir))
    )
    trace.set_tracer_provider(provider)
    AIOKafkaInstrumentor().instrument(tracer_provider=provider)
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    _configured = provider
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return provider


def _default_exporter(service_name: str, role: str, otlp_endpoint: str | None, data_dir: Path) -> SpanExporter:
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()  # reads OTEL_EXPORTER_OTLP_* itself
    trace_dir = data_dir / "traces"
    trace_dir.mkdir(parents=True, exist_ok=True)
    stream = (trace_dir / f"{service_name}-{role}.jsonl").open("a", encoding="utf-8", buffering=1)
    return ConsoleSpanExporter(out=stream, formatter=_one_line)


def _one_line(span: ReadableSpan) -> str:
    return json.dumps(json.loads(span.to_json()), separators=(",", ":")) + "\n"


def shutdown_telemetry() -> None:
    """Flush and close exporters before the process exits."""
    if _configured is not None:
        _configured.shutdown()
