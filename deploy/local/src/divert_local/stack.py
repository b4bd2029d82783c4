"""Start the whole system on its embedded default, as separate processes, and stop it by PID.

Order: Tansu broker → Temporal dev server (SQLite file, Web UI) → each service's migrations →
every API, relay, consumer and the intake worker → wait until each API is ready.
"""

import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from divert_platform.embedded import free_port, start_broker, start_temporal, stop_process, venv_bin


@dataclass(frozen=True)
class Ports:
    """Where everything listens (ARCHITECTURE.md §1 by default)."""

    intake: int = 8001
    assessment: int = 8002
    directory: int = 8003
    warrants: int = 8004
    kafka: int = 9092
    temporal: int = 7233
    temporal_ui: int = 8233
    metrics_base: int | None = 9464
    """Each process's Prometheus port is this plus its place in `Stack.process_names()`; None
    draws a free port for each."""

    @classmethod
    def free(cls) -> "Ports":
        """Free ports for every part (tests run beside a developer's stack)."""
        return cls(*(free_port() for _ in range(7)), metrics_base=None)


# (service, console script, roles besides the API)
SERVICES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("intake", "divert-intake", ("relay", "consumer", "worker")),
    ("assessment", "divert-assessment", ("relay", "consumer")),
    ("directory", "divert-directory", ("relay", "consumer")),
    ("warrants", "divert-warrants", ("relay", "consumer")),
)


@dataclass
class Stack:
    """The embedded system: call `start()`, then `stop()` (also on failure)."""

    data_dir: Path
    ports: Ports = field(default_factory=Ports)
    ui: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    metrics_ports: dict[str, int] = field(default_factory=dict)
    """Where each Divert process serves Prometheus metrics, by process name (`intake-api`, ...)."""

    def __post_init__(self) -> None:
        base = self.ports.metrics_base
        for index, name in enumerate(self.process_names()):
            self.metrics_ports[name] = base + index if base is not None else free_port()

    @staticmethod
    def process_names() -> list[str]:
        """Every Divert process of the stack, `<service>-<role>`, in start order."""
        return [f"{service}-{role}" for service, _, roles in SERVICES for role in ("api", *roles)]

    def url(self, service: str) -> str:
        """Base URL of a service's API."""
        return f"http://127.0.0.1:{getattr(self.ports, service)}"

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.ports.kafka}"

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.ports.temporal}"

    def start(self, *, ready_timeout: float = 120.0) -> None:
        """Start everything and wait until every API reports ready; stops what it started on failure."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "logs").mkdir(exist_ok=True)
        try:
            self.processes.append(("broker", start_broker(self.ports.kafka, log=self._log("broker"))))
            self.processes.append(
                (
                    "temporal",
                    start_temporal(
                        self.ports.temporal,
                        db_file=self.data_dir / "temporal.db",
                        ui_port=self.ports.temporal_ui if self.ui else None,
                        log=self._log("temporal"),
                    ),
                )
            )
            for service, script, _ in SERVICES:
                subprocess.run([venv_bin(script), "migrate"], env=self._env(service), check=True)
            subprocess.run([venv_bin("divert-directory"), "seed"], env=self._env("directory"), check=True)
            for service, script, roles in SERVICES:
                for role in ("api", *roles):
                    name = f"{service}-{role}"
                    env = {**self._env(service), "DIVERT_METRICS_PORT": str(self.metrics_ports[name])}
                    self._spawn(name, [venv_bin(script), role], env)
            self._wait_ready(ready_timeout)
            self.write_scrape_config()
        except BaseException:
            self.stop()
            raise

    def write_scrape_config(self) -> Path:
        """Write `prometheus.yml` for a local Prometheus: one job per service, one target per process."""
        jobs = [
            {
                "job_name": f"divert-{service}",
                "static_configs": [
                    {"targets": [f"127.0.0.1:{self.metrics_ports[f'{service}-{role}']}"], "labels": {"role": role}}
                    for role in ("api", *roles)
                ],
            }
            for service, _, roles in SERVICES
        ]
        path = self.data_dir / "prometheus.yml"
        # JSON is YAML: Prometheus reads it as it is.
        path.write_text(json.dumps({"global": {"scrape_interval": "15s"}, "scrape_configs": jobs}, indent=2) + "\n")
        return path

    def stop(self) -> None:
        """Stop every process we started, by PID, services before infrastructure."""
        for _, process in reversed(self.processes):
            stop_process(process)
        self.processes.clear()

    def dead(self) -> list[str]:
        """Names of processes that exited on their own."""
        return [name for name, process in self.processes if process.poll() is not None]

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> None:
        process = subprocess.Popen(
            args, env=env, stdout=self._log(name), stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes.append((name, process))

    def _log(self, name: str):  # type: ignore[no-untyped-def]
        return (self.data_dir / "logs" / f"{name}.log").open("ab")

    def _env(self, service: str) -> dict[str, str]:
        env = {
            **os.environ,
            "DIVERT_ENVIRONMENT": "development",
            "DIVERT_DATA_DIR": str(self.data_dir),
            "DIVERT_DATABASE_URL": f"sqlite+aiosqlite:///{self.data_dir / (service + '.db')}",
            "DIVERT_PORT": str(getattr(self.ports, service)),
            "DIVERT_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "DIVERT_TEMPORAL_ADDRESS": self.temporal_address,
            "DIVERT_WARRANTS_URL": self.url("warrants"),
            **self.extra_env,
        }
        return env

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = {service for service, _, _ in SERVICES}
        while pending:
            if dead := self.dead():
                raise RuntimeError(f"exited during start-up: {', '.join(dead)} (see {self.data_dir / 'logs'})")
            if time.monotonic() > deadline:
                raise TimeoutError(f"not ready after {timeout:.0f}s: {', '.join(sorted(pending))}")
            for service in list(pending):
                try:
                    if httpx.get(f"{self.url(service)}/readyz", timeout=2).status_code == 200:
                        pending.discard(service)
                except httpx.HTTPError:
                    pass
            time.sleep(0.3)
