"""The embedded default's trace files: one span per line, read back whole by `divert trace`."""

import json
from pathlib import Path

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from divert_platform.telemetry import _default_exporter
from divert_platform.trace_view import load_spans


def test_each_span_is_one_json_line_that_the_trace_view_reads_back(tmp_path: Path) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "divert-intake", "divert.role": "api"}))
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("POST /v1/referrals", attributes={"divert.referral_id": "r-1"}):
        # a multi-line statement must not break the one-span-per-line format
        with tracer.start_as_current_span("INSERT", attributes={"db.statement": "INSERT INTO events\nVALUES (?)"}):
            pass
    spans = memory.get_finished_spans()

    exporter = _default_exporter("intake", "api", None, tmp_path)
    exporter.export(spans)
    lines = (tmp_path / "traces" / "intake-api.jsonl").read_text().splitlines()

    assert len(lines) == 2
    assert [json.loads(line) for line in lines] == [json.loads(span.to_json()) for span in spans]
    loaded = load_spans(tmp_path / "traces")
    assert [(s.name, s.service) for s in loaded] == [
        ("INSERT", "divert-intake/api"),
        ("POST /v1/referrals", "divert-intake/api"),
    ]
    assert loaded[0].parent_id == f"0x{spans[1].context.span_id:016x}"
    assert loaded[0].attributes["db.statement"] == "INSERT INTO events\nVALUES (?)"
