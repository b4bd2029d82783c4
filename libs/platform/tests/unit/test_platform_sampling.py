"""Background chatter never starts a trace; the same call inside a request's trace is kept."""

from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind


def test_root_client_spans_are_dropped_and_client_spans_inside_a_trace_kept(provider: TracerProvider) -> None:
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")

    with tracer.start_as_current_span("SELECT outbox (relay polling)", kind=SpanKind.CLIENT):
        pass
    with tracer.start_as_current_span("POST /v1/referrals", kind=SpanKind.SERVER):
        with tracer.start_as_current_span("INSERT events", kind=SpanKind.CLIENT):
            pass
    with tracer.start_as_current_span("process divert.referrals", kind=SpanKind.CONSUMER):
        pass

    assert sorted(span.name for span in exporter.get_finished_spans()) == [
        "INSERT events",
        "POST /v1/referrals",
        "process divert.referrals",
    ]
    assert trace.get_current_span() is trace.INVALID_SPAN


def test_a_request_whose_caller_did_not_sample_it_is_still_traced(provider: TracerProvider) -> None:
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    unsampled = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"}

    with provider.get_tracer("test").start_as_current_span(
        "POST /v1/referrals", context=propagate.extract(unsampled), kind=SpanKind.SERVER
    ):
        with provider.get_tracer("test").start_as_current_span("INSERT events", kind=SpanKind.CLIENT):
            pass

    spans = {span.name: span for span in exporter.get_finished_spans()}
    assert set(spans) == {"POST /v1/referrals", "INSERT events"}
    assert format(spans["POST /v1/referrals"].context.trace_id, "032x") == "0af7651916cd43dd8448eb211c80319c"
