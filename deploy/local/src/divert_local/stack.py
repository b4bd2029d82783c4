"""Start the whole system on its embedded default, as separate processes, and stop it by PID.

Order: check that every port is free → Tansu broker → Temporal dev server (SQLite file, Web UI) →
each service's migrations → the Divert processes → wait until each API is ready. Stopping goes the
other way: every Divert process at once, then Temporal, then the broker. Every process is started
with `spawn`, so none outlives the process that started the stack.

Two layouts of the Divert processes: `combined` (the default of `make run`), one process per
service running its API, relay, consumer and worker as tasks (`divert-<svc> all`), and `split`, one
process per role as production deploys them (`divert-<svc> api`, `... relay`, ...).
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
from typing import BinaryIO, Literal

import httpx

from divert_platform.embedded import (
    BROKER_START_SECONDS,
    TEMPORAL_START_SECONDS,
    free_port,
    launch_broker,
    launch_temporal,
    port_holders,
    port_in_use,
    spawn,
    start_broker,
    start_temporal,
    stop_processes,
    venv_bin,
    wait_for_port,
)

INFRASTRUCTURE = ("broker", "temporal")

Layout = Literal["combined", "split"]
"""`combined`: a process per service (`<service>`); `split`: a process per role (`<service>-<role>`)."""
LAYOUTS: tuple[Layout, ...] = ("combined", "split")


class PortsInUse(RuntimeError):
    """Some of the stack's ports are taken (by an earlier stack, most often); nothing was started."""


@dataclass(frozen=True)
class Ports:
    """Where everything listens (docs/architecture.md#services by default)."""

    intake: int = 8001
    assessment: int = 8002
    directory: int = 8003
    warrants: int = 8004
    console: int = 8005
    kafka: int = 9092
    temporal: int = 7233
    temporal_ui: int = 8233
    metrics_base: int | None = 9464
    """Each Divert process's Prometheus port is this plus its place in `Stack.process_names()`;
    None draws a free port for each."""

    @classmethod
    def free(cls) -> "Ports":
        """Free ports for every part (tests run beside a developer's stack)."""
        intake, assessment, directory, warrants, console, kafka, temporal, temporal_ui = (free_port() for _ in range(8))
        return cls(intake, assessment, directory, warrants, console, kafka, temporal, temporal_ui, metrics_base=None)


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
    console: bool = True
    """Start the console (`divert-console`, on `ports.console`) over the services' APIs."""
    layout: Layout = "combined"
    database_urls: dict[str, str] = field(default_factory=dict)
    """A service's database URL where it is not its SQLite file under `data_dir` (the benchmark's
    PostgreSQL runs)."""
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    chores: list[subprocess.Popen[bytes]] = field(default_factory=list)
    """One-off jobs run while the stack is up (the retention purge); they may exit, the stack goes on."""
    metrics_ports: dict[str, int] = field(default_factory=dict)
    """Where each Divert process serves Prometheus metrics, by process name (`intake`, `intake-api`, ...)."""
    console_metrics_port: int = 0
    """Where the console serves Prometheus metrics (after the services' ports)."""
    _starters: dict[str, Callable[[], subprocess.Popen[bytes]]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        base = self.ports.metrics_base
        for index, name in enumerate(self.process_names()):
            self.metrics_ports[name] = base + index if base is not None else free_port()
        self.console_metrics_port = base + len(self.metrics_ports) if base is not None else free_port()

    def process_names(self) -> list[str]:
        """Every Divert process of the stack in start order: `<service>` in the combined layout,
        `<service>-<role>` in the split one."""
        return list(self._commands())

    def host(self, service: str, role: str) -> str:
        """The name of the process that runs `role` (`api`, `relay`, ...) of `service`."""
        if not any(known == service and role in ("api", *roles) for known, _, roles in SERVICES):
            raise KeyError(f"{service} has no {role} role")
        return service if self.layout == "combined" else f"{service}-{role}"

    def service_of(self, name: str) -> str:
        """The service a Divert process belongs to."""
        return self._commands()[name][0]

    def hosts_of(self, role: str) -> list[str]:
        """The processes that run `role` of some service (`relay`: one per service)."""
        return [self.host(service, role) for service, _, roles in SERVICES if role in ("api", *roles)]

    def _commands(self) -> dict[str, tuple[str, str, str]]:
        """Each Divert process's name → (service, console script, command)."""
        if self.layout == "combined":
            return {service: (service, script, "all") for service, script, _ in SERVICES}
        return {
            f"{service}-{role}": (service, script, role)
            for service, script, roles in SERVICES
            for role in ("api", *roles)
        }

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
            # The broker and Temporal come up while the services' databases are migrated and the
            # directory seeded: start-up waits for the slowest, not for the sum.
            db_file, ui_port = self.data_dir / "temporal.db", self.ports.temporal_ui if self.ui else None
            self._launch(
                "broker",
                lambda: start_broker(self.ports.kafka, log=self._log("broker")),
                first=lambda: launch_broker(self.ports.kafka, log=self._log("broker")),
            )
            self._launch(
                "temporal",
                lambda: start_temporal(
                    self.ports.temporal, db_file=db_file, ui_port=ui_port, log=self._log("temporal")
                ),
                first=lambda: launch_temporal(
                    self.ports.temporal, db_file=db_file, ui_port=ui_port, log=self._log("temporal")
                ),
            )
            seed = ([venv_bin("divert-directory"), "seed", "--migrate"], self._env("directory"))
            if self.layout == "combined":
                # Each service's process migrates its own database before its roles start (one
                # process fewer to start per service); the seed migrates the directory's first too,
                # taking turns with it under the migration lock.
                seeding = self._one_off(seed)
            else:  # as production: `migrate` first, then the roles
                steps = [([venv_bin(script), "migrate"], self._env(service)) for service, script, _ in SERVICES]
                self._finish(self._one_off(*steps), steps)
                seeding = self._one_off(seed)
            wait_for_port(self.ports.kafka, timeout=BROKER_START_SECONDS, process=self._process("broker"))
            wait_for_port(self.ports.temporal, timeout=TEMPORAL_START_SECONDS, process=self._process("temporal"))
            for name, (service, script, command) in self._commands().items():
                env = {**self._env(service), "DIVERT_METRICS_PORT": str(self.metrics_ports[name])}
                args = [venv_bin(script), command, *(["--migrate"] if command == "all" else [])]
                self._launch(name, partial(self._spawn, name, args, env))
            if self.console:
                args = [venv_bin("divert-console"), "api"]
                self._launch("console", partial(self._spawn, "console", args, self._console_env()))
            self._finish(seeding, [seed])
            self._wait_ready(ready_timeout)
            self.write_scrape_config()
        except BaseException:
            self.stop()
            raise

    def write_scrape_config(self) -> Path:
        """Write `prometheus.yml` for a local Prometheus: one job per service, one target per process
        (labelled with its role, `all` in the combined layout)."""
        jobs = [
            {
                "job_name": f"divert-{service}",
                "static_configs": [
                    {"targets": [f"127.0.0.1:{self.metrics_ports[name]}"], "labels": {"role": command}}
                    for name, (known, _, command) in self._commands().items()
                    if known == service
                ],
            }
            for service, _, _ in SERVICES
        ]
        if self.console:
            targets = [{"targets": [f"127.0.0.1:{self.console_metrics_port}"], "labels": {"role": "api"}}]
            jobs.append({"job_name": "divert-console", "static_configs": targets})
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
        if not self.console:
            del ports["console"]
        else:
            ports["console metrics"] = self.console_metrics_port
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

    def _launch(
        self,
        name: str,
        start: Callable[[], subprocess.Popen[bytes]],
        *,
        first: Callable[[], subprocess.Popen[bytes]] | None = None,
    ) -> None:
        """Start a process with `first` (`start` if none) and keep `start` for `start_again`."""
        self._starters[name] = start
        self.processes.append((name, (first or start)()))

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        return spawn(args, env=env, log=self._log(name))

    def _one_off(self, *steps: tuple[list[str], dict[str, str]]) -> list[subprocess.Popen[bytes]]:
        """Start one-off steps of start-up (migrations, seed), (arguments, environment) each, all at
        once; `_finish` waits for them. Kept as chores until then, so a start-up cut short stops them."""
        processes = [spawn(args, env=env) for args, env in steps]
        self.chores.extend(processes)
        return processes

    def _finish(self, processes: list[subprocess.Popen[bytes]], steps: list[tuple[list[str], dict[str, str]]]) -> None:
        """Wait for one-off steps started by `_one_off`; raises if one failed."""
        for process, (args, _) in zip(processes, steps, strict=True):
            if process.wait() != 0:
                raise subprocess.CalledProcessError(process.returncode, args)
            self.chores.remove(process)

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
            "DIVERT_DATABASE_URL": self.database_urls.get(
                service, f"sqlite+aiosqlite:///{self.data_dir / (service + '.db')}"
            ),
            "DIVERT_PORT": str(getattr(self.ports, service)),
            "DIVERT_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "DIVERT_TEMPORAL_ADDRESS": self.temporal_address,
            "DIVERT_WARRANTS_URL": self.url("warrants"),
            **self.extra_env,
        }
        return env

    def _console_env(self) -> dict[str, str]:
        """The console's environment: the APIs it calls, where the traces are, what it links to."""
        metrics = {f"{name} metrics": f"http://127.0.0.1:{port}/metrics" for name, port in self.metrics_ports.items()}
        return {
            **os.environ,
            "DIVERT_ENVIRONMENT": "development",
            "DIVERT_DATA_DIR": str(self.data_dir),
            "DIVERT_PORT": str(self.ports.console),
            "DIVERT_PUBLIC_URL": self.url("console"),
            "DIVERT_METRICS_PORT": str(self.console_metrics_port),
            **{f"DIVERT_{service.upper()}_URL": self.url(service) for service, _, _ in SERVICES},
            **({"DIVERT_TEMPORAL_UI_URL": f"http://127.0.0.1:{self.ports.temporal_ui}"} if self.ui else {}),
            "DIVERT_METRICS_LINKS": json.dumps(metrics),
            **self.extra_env,
        }

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = {service for service, _, _ in SERVICES} | ({"console"} if self.console else set())
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
