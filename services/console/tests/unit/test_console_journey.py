"""The journey timeline: spans in tree order on their trace's time axis, from files or Jaeger alike."""

from datetime import UTC, datetime, timedelta

from divert_console.adapters.traces import jaeger_spans
from divert_console.entrypoints.journey import timeline
from divert_platform.trace_view import Span

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _span(span_id: str, parent: str | None, start_ms: int, ms: int, name: str = "s") -> Span:
    start = T0 + timedelta(milliseconds=start_ms)
    return Span("t", span_id, parent, name, "divert-intake/api", start, start + timedelta(milliseconds=ms), False, {})


def test_spans_are_placed_in_tree_order_on_the_traces_time_axis() -> None:
    rows = timeline([_span("c", "a", 50, 50, "child"), _span("a", None, 0, 200, "root"), _span("b", "a", 10, 20)])
    assert [(row.depth, row.span.span_id) for row in rows] == [(0, "a"), (1, "b"), (1, "c")]
    assert [(row.left, row.width) for row in rows] == [(0.0, 100.0), (5.0, 10.0), (25.0, 25.0)]
    assert rows[2].offset_ms == 50


def test_a_jaeger_trace_reads_as_the_trace_files_do_without_attribute_values() -> None:
    trace = {
        "traceID": "t1",
        "processes": {
            "p1": {"serviceName": "divert-assessment", "tags": [{"key": "divert.role", "value": "consumer"}]}
        },
        "spans": [
            {
                "traceID": "t1",
                "spanID": "s2",
                "operationName": "process divert.referrals",
                "processID": "p1",
                "startTime": 1_000_500,
                "duration": 250,
                "references": [{"refType": "CHILD_OF", "spanID": "s1"}],
                "tags": [
                    {"key": "messaging.kafka.message.key", "value": "a-referral-id"},
                    {"key": "error", "value": True},
                ],
            },
            {
                "traceID": "t1",
                "spanID": "s1",
                "operationName": "send",
                "processID": "p1",
                "startTime": 1_000_000,
                "duration": 1000,
                "references": [],
                "tags": [],
            },
        ],
    }
    spans = jaeger_spans(trace)
    assert [(s.span_id, s.parent_id, s.service, s.error) for s in spans] == [
        ("s1", None, "divert-assessment/consumer", False),
        ("s2", "s1", "divert-assessment/consumer", True),
    ]
    assert spans[1].milliseconds == 0.25 and spans[1].attributes == {}
