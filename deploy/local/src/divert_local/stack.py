"""Start the whole system on its embedded default, as separate processes, and stop it by PID.

Order: check that every port is free → Tansu broker → Temporal dev server (SQLite file, Web UI) →
each service's migrations → every API, relay, consumer and the intake worker → wait until each API
is ready. Stopping goes the other way: every Divert process at once, then Temporal, then the broker.
Every process is started with `spawn`, so none outlives the process that started the stack.
"""

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import BinaryIO

import httpx

from divert_platform.embedded import (
    free_port,
    port_holders,
    port_in_use,
    spawn,
    start_broker,
    start_temporal,
    stop_processes,
    venv_bin,
)

INFRASTRUCTURE = ("broker", "temporal")


class PortsInUse(RuntimeError):
    """Some of the stack's ports are taken (by an earlier stack, most often); nothing was started."""


@dataclass(frozen=True)
class Ports:
    """Where everything listens (docs/architecture.md#services by default)."""

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
        intake, assessment, directory, warrants, kafka, temporal, temporal_ui = (free_port() for _ in range(7))
        return cls(intake, assessment, directory, warrants, kafka, temporal, temporal_ui, metrics_base=None)


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
    chores: list[subprocess.Popen[bytes]] = field(default_factory=list)
    """One-off jobs run while the stack is up (the retention purge); they may exit, the stack goes on."""
    metrics_ports: dict[str, int] = field(default_factory=dict)
    """Where each Divert process serves Prometheus metrics, by process name (`intake-api`, ...)."""
    _starters: dict[str, Callable[[], subprocess.Popen[bytes]]] = field(default_factory=dict, repr=False)

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
        """Start everything and wait until every API reports ready; stops what it started on failure.

        Raises `PortsInUse`, before starting anything, when a port it would listen on is taken.
        """
        self._check_ports_free()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "logs").mkdir(exist_ok=True)
        try:
            self._launch("broker", lambda: start_broker(self.ports.kafka, log=self._log("broker")))
            self._launch(
                "temporal",
                lambda: start_temporal(
                    self.ports.temporal,
                    db_file=self.data_dir / "temporal.db",
                    ui_port=self.ports.temporal_ui if self.ui else None,
                    log=self._log("temporal"),
                ),
            )
            for service, script, _ in SERVICES:
                self._run_to_end([venv_bin(script), "migrate"], self._env(service))
            self._run_to_end([venv_bin("divert-directory"), "seed"], self._env("directory"))
            for service, script, roles in SERVICES:
                for role in ("api", *roles):
                    name = f"{service}-{role}"
                    args = [venv_bin(script), role]
                    env = {**self._env(service), "DIVERT_METRICS_PORT": str(self.metrics_ports[name])}
                    self._launch(name, partial(self._spawn, name, args, env))
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

    def purge(self) -> None:
        """Start each service's retention job (`divert-<svc> purge`, docs/operations.md "Retention") in
        the background, unless the last one is still running; its log is `logs/<svc>-purge.log`."""
        self.chores = [process for process in self.chores if process.poll() is None]
        if self.chores:
            return
        for service, script, _ in SERVICES:
            name = f"{service}-purge"
            self.chores.append(self._spawn(name, [venv_bin(script), "purge"], self._env(service)))

    def stop(self) -> None:
        """Stop every process we started, by PID: the Divert processes at once, then Temporal, then the broker.

        The services go first so that they can finish their work while what they talk to is still up.
        """
        stop_processes([*self.chores, *(process for name, process in self.processes if name not in INFRASTRUCTURE)])
        self.chores.clear()
        for name in reversed(INFRASTRUCTURE):
            stop_processes([process for known, process in self.processes if known == name])
        self.processes.clear()

    def named_ports(self) -> dict[str, int]:
        """Every port the stack listens on, by what listens there (`intake`, `intake-api metrics`, ...)."""
        ports = {name: port for name, port in asdict(self.ports).items() if name != "metrics_base"}
        if not self.ui:
            del ports["temporal_ui"]
        return ports | {f"{name} metrics": port for name, port in self.metrics_ports.items()}

    def dead(self) -> list[str]:
        """Names of processes that exited on their own."""
        return [name for name, process in self.processes if process.poll() is not None]

    # Fault injection (tests/faults): every process can be killed, restarted and paused by name.

    def pid(self, name: str) -> int:
        """The PID of the running process called `name` (`broker`, `temporal`, `intake-api`, ...)."""
        return self._process(name).pid

    def kill(self, name: str) -> None:
        """`kill -9` the process and wait for it: no shutdown code of its own runs."""
        process = self._process(name)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()

    def start_again(self, name: str) -> None:
        """Start a killed process again, as `start()` did (same ports, files and environment)."""
        index = next(i for i, (known, _) in enumerate(self.processes) if known == name)
        if self.processes[index][1].poll() is None:
            raise RuntimeError(f"{name} is still running")
        self.processes[index] = (name, self._starters[name]())

    def restart(self, name: str) -> None:
        """`kill -9`, then start again at once."""
        self.kill(name)
        self.start_again(name)

    def pause(self, name: str) -> None:
        """Freeze the process (SIGSTOP): it holds its connections but does nothing, like a hung host."""
        os.kill(self.pid(name), signal.SIGSTOP)

    def resume(self, name: str) -> None:
        """Let a paused process go on (SIGCONT)."""
        os.kill(self.pid(name), signal.SIGCONT)

    def command(self, service: str, *args: str) -> str:
        """Run a one-off command of a service (`divert-intake replay ...`) against this stack; its output."""
        script = next(script for name, script, _ in SERVICES if name == service)
        done = subprocess.run(
            [venv_bin(script), *args], env=self._env(service), capture_output=True, text=True, check=True
        )
        return done.stdout

    def _process(self, name: str) -> subprocess.Popen[bytes]:
        return next(process for known, process in self.processes if known == name)

    def _launch(self, name: str, start: Callable[[], subprocess.Popen[bytes]]) -> None:
        self._starters[name] = start
        self.processes.append((name, start()))

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        return spawn(args, env=env, log=self._log(name))

    def _run_to_end(self, args: list[str], env: dict[str, str]) -> None:
        """Run a one-off step of start-up (migrations, seed); stop it too if start-up is cut short."""
        process = spawn(args, env=env)
        try:
            if process.wait() != 0:
                raise subprocess.CalledProcessError(process.returncode, args)
        finally:
            stop_processes([process])  # nothing to do once it has exited

    def _check_ports_free(self) -> None:
        held = [
            f"  {name} port {port}: {'; '.join(port_holders(port)) or 'held by a process this user cannot see'}"
            for name, port in self.named_ports().items()
            if port_in_use(port)
        ]
        if held:
            raise PortsInUse("\n".join(["these ports are already in use:", *held]))

    def _log(self, name: str) -> BinaryIO:
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
