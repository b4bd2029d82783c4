"""OpenTelemetry metrics, served to Prometheus on a port of each process's own.

Every process (API, relay, consumer, worker) listens for scrapes on `DIVERT_METRICS_PORT`, apart
from its API port: relays, consumers and workers have no HTTP server of their own, and a separate
listener keeps `/metrics` off the address RMS vendors and case agencies are given. It answers
without a token, as Prometheus expects, so bind it (`DIVERT_METRICS_HOST`) to an address only the
monitoring network reaches. Label values are codes, topics, routes and states, never ids or
personal data, which also keeps their number bounded.
"""

import os
from collections.abc import Sequence

from opentelemetry import metrics
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import Histogram, MeterProvider
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from prometheus_client import start_http_server

from divert_contracts.base import IntegrationEvent

# Latencies from a millisecond to a minute: HTTP calls sit at the low end, a workflow started
# after the broker was down for a while at the high end.
LATENCY_BUCKETS_SECONDS: Sequence[float] = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
)  # fmt: skip

_configured: MeterProvider | None = None


def configure_metrics(service_name: str, role: str, *, port: int | None, host: str) -> MeterProvider:
    """Install the process's meter provider and, when `port` is set, serve `/metrics` on it (once)."""
    global _configured
    if _configured is not None:
        return _configured
    # HTTP instruments in the stable conventions: `http.server.request.duration` in seconds, by
    # `http.route` (the template, never a path with ids). Read once, when instrumentation starts.
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
    seconds = View(
        instrument_type=Histogram,
        instrument_unit="s",
        aggregation=ExplicitBucketHistogramAggregation(LATENCY_BUCKETS_SECONDS),
    )
    provider = MeterProvider(
        resource=Resource.create({"service.name": f"divert-{service_name}", "divert.role": role}),
        metric_readers=[PrometheusMetricReader()],
        views=[seconds],
    )
    metrics.set_meter_provider(provider)
    if port is not None:
        start_http_server(port, addr=host)
    _configured = provider
    return provider


class CommittedEventCounter:
    """Counts integration events once their transaction has committed, one counter per event type.

    A service gives its unit of work one of these as `on_commit`: effects are counted exactly when
    they became true, so an idempotent retry that finds its effect already recorded (and writes no
    event) is not counted twice, and a rolled-back transaction is not counted at all.
    """

    def __init__(self) -> None:
        self._instruments: dict[str, metrics.Counter] = {}
        self._counted: dict[type[IntegrationEvent], tuple[metrics.Counter, tuple[str, ...], dict[str, str]]] = {}

    def count(
        self,
        event_type: type[IntegrationEvent],
        name: str,
        description: str,
        *,
        labels: tuple[str, ...] = (),
        **fixed_labels: str,
    ) -> "CommittedEventCounter":
        """Count events of `event_type` in counter `name`, labelled by these event fields (which
        must hold codes, never personal data) and by `fixed_labels`."""
        if name not in self._instruments:
            self._instruments[name] = metrics.get_meter("divert").create_counter(name, description=description)
        self._counted[event_type] = (self._instruments[name], labels, fixed_labels)
        return self

    def __call__(self, events: Sequence[IntegrationEvent]) -> None:
        for event in events:
            if (counted := self._counted.get(type(event))) is not None:
                counter, labels, fixed_labels = counted
                counter.add(1, {**{label: str(getattr(event, label)) for label in labels}, **fixed_labels})
