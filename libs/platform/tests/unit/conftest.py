"""Fixtures of the platform's telemetry tests: the process's tracer provider and a span recorder."""

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from divert_platform.telemetry import configure_telemetry


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> TracerProvider:
    """The process's provider as services configure it (other tests may have configured it first)."""
    return configure_telemetry("platform-test", "test", otlp_endpoint=None, data_dir=tmp_path_factory.mktemp("t"))


@pytest.fixture
def spans(provider: TracerProvider) -> InMemorySpanExporter:
    """The spans that end from now on, as an exporter added after the provider's own sees them."""
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter
