"""`make run` stops cleanly whatever stop signals reach it, and when; a start on taken ports names the holder.

Each test runs a real `make run` in its own process group, on free ports, with its data in a
temporary directory. While it runs, the test notes every process descended from `make` (from the
parent PIDs in /proc) and every port they listen on; after `make` has exited, none of those
processes may be alive and every one of those ports must be free for a new server.
"""

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from divert_local.stack import Stack
from divert_platform.embedded import free_port, venv_bin

REPO = Path(__file__).resolve().parents[2]
# The venv is the one these tests run in: `make` must not reinstall it under them.
STAMP = ".venv/.installed"
WITHIN = 240.0  # seconds; only a bound on a hang, never an assertion on speed


def _proc_stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent PID, start time) of a process, None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = stat.rpartition(")")[2].split()  # fields 3 on: state, ppid, ..., starttime (22nd)
    return rest[0], int(rest[1]), int(rest[19])


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _listening_ports(pids: set[int]) -> set[int]:
    """Ports on which any of `pids` holds a listening TCP socket."""
    port_of_inode = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()
            if fields[3] == "0A":  # LISTEN
                port_of_inode[f"socket:[{fields[9]}]"] = int(fields[1].rsplit(":", 1)[1], 16)
    ports = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    if (port := port_of_inode.get(os.readlink(f"/proc/{pid}/fd/{fd}"))) is not None:
                        ports.add(port)
    return ports


def _free_for_a_server(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
        except OSError:
            return False
    return True


@dataclass
class MakeRun:
    """A real `make run` in its own process group, watched down to its last descendant."""

    data_dir: Path
    extra_args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] = field(init=False)
    descendants: dict[int, int] = field(default_factory=dict)
    """Every process `make` started, directly or not: PID → start time (PIDs can be reused)."""
    ports: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.output = self.data_dir.with_name(self.data_dir.name + ".out")
        run_args = " ".join(["--data-dir", str(self.data_dir), "--free-ports", *self.extra_args])
        # Not the make of a `make test` around us: its jobserver is not ours.
        env = {name: value for name, value in os.environ.items() if name not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
        with self.output.open("wb") as out:
            self.process = subprocess.Popen(
                ["make", "--no-print-directory", "-o", STAMP, "run", f"RUN_ARGS={run_args}"],
                cwd=REPO,
                env={**env, "PYTHONUNBUFFERED": "1"},
                stdout=out,
                stderr=subprocess.STDOUT,
                process_group=0,
            )

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def watch(self) -> None:
        """Note the processes descended from `make` that appeared since the last look."""
        table = {pid: stat for pid in map(int, filter(str.isdigit, os.listdir("/proc"))) if (stat := _proc_stat(pid))}
        known = {self.process.pid, *self.descendants}
        grew = True
        while grew:
            grew = False
            for pid, (_, parent, started) in table.items():
                if pid not in known and parent in known:
                    self.descendants[pid] = started
                    known.add(pid)
                    grew = True

    def alive(self) -> list[str]:
        """The descendants still running (a zombie holds nothing), with their command lines."""
        return [
            f"{pid} {stat[0]} {_command_line(pid)}"
            for pid, started in self.descendants.items()
            if (stat := _proc_stat(pid)) and stat[2] == started and stat[0] != "Z"
        ]

    def pid_of(self, command: str) -> int:
        """The descendant whose command line contains `command`."""
        found = [pid for pid in self.descendants if command in _command_line(pid)]
        assert len(found) == 1, (command, found)
        return found[0]

    def wait_for(self, what: str, done: Callable[[], bool]) -> None:
        deadline = time.monotonic() + WITHIN
        while not done():
            assert self.process.poll() is None, f"make exited with {self.process.returncode}:\n{self.text()}"
            assert time.monotonic() < deadline, f"not {what} after {WITHIN:.0f}s:\n{self.text()}"
            self.watch()
            time.sleep(0.1)
        self.watch()

    def wait_until_ready(self) -> None:
        self.wait_for("ready", lambda: "Divert is running" in self.text())
        self.ports = _listening_ports(set(self.descendants))
        announced = {int(port) for port in re.findall(r"127\.0\.0\.1:(\d+)", self.text())}
        assert announced and announced <= self.ports, (announced, self.ports)  # the look at /proc sees them

    def wait_for_the_first_purge(self) -> None:
        """`divert run` runs each service's retention job once it is ready: wait until all four have
        logged what they purged and exited."""
        logs = [
            self.data_dir / "logs" / f"{service}-purge.log"
            for service in ("intake", "assessment", "directory", "warrants")
        ]

        def purged() -> bool:
            done = all(log.exists() and "purged expired rows" in log.read_text(errors="replace") for log in logs)
            return done and not [line for line in self.alive() if " purge" in line]

        self.wait_for("purged", purged)

    def signal_group(self, number: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):  # everything may have stopped already
            os.killpg(self.process.pid, number)

    def wait_until_exited(self) -> None:
        deadline = time.monotonic() + WITHIN
        while self.process.poll() is None:
            assert time.monotonic() < deadline, f"make still running after {WITHIN:.0f}s:\n{self.text()}"
            self.watch()
            time.sleep(0.1)

    def assert_nothing_left(self, *, dying: bool = False) -> None:
        """No descendant alive, no port held; `dying`: they were SIGKILLed by the kernel, let them finish dying."""
        assert self.process.poll() is not None
        deadline = time.monotonic() + (WITHIN if dying else 0)
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert self.alive() == [], self.text()
        taken = sorted(port for port in self.ports if not _free_for_a_server(port))
        assert taken == [], self.text()

    def kill_what_is_left(self) -> None:
        """After a failure: leave no process behind for the next test (by PID)."""
        for pid in [int(line.split()[0]) for line in self.alive()]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _pids_and_commands(alive: list[str]) -> list[tuple[str, str]]:
    """`MakeRun.alive()` without the run state letter, which changes from one look to the next."""
    return [(pid, command) for pid, _, command in (line.split(" ", 2) for line in alive)]


STARTED = "started"  # some of the stack is up, the rest is starting
READY = "ready"
# name: (when the first signal is sent, [(whom, signal), ...] one second apart)
SEQUENCES = {
    "sigint-twice-during-start-up": (STARTED, [("group", signal.SIGINT), ("group", signal.SIGINT)]),
    "sigint-twice": (READY, [("group", signal.SIGINT), ("group", signal.SIGINT)]),
    "sigterm-then-sigint": (READY, [("group", signal.SIGTERM), ("group", signal.SIGINT)]),
    "sigkill-of-the-supervisor": (READY, [("divert run", signal.SIGKILL)]),
}


@pytest.mark.parametrize("sequence", list(SEQUENCES))
def test_make_run_leaves_no_process_and_no_port_behind(tmp_path: Path, sequence: str) -> None:
    when, signals = SEQUENCES[sequence]
    run = MakeRun(tmp_path / "divert")
    try:
        if when == READY:
            run.wait_until_ready()
        else:  # once Temporal is starting: the broker is up, migrations and services are to come
            run.wait_for("starting Temporal", lambda: any("start-dev" in _command_line(p) for p in run.descendants))
            run.ports = _listening_ports(set(run.descendants))
        for index, (whom, number) in enumerate(signals):
            if index:
                time.sleep(1)
            if whom == "group":
                run.signal_group(number)
            else:
                os.kill(run.pid_of(whom), number)
        run.wait_until_exited()
        # The look saw the stack: `divert run`, broker, Temporal (and, once ready, the Divert processes).
        divert_processes = len(Stack(data_dir=tmp_path).process_names())  # `make run`'s layout
        assert len(run.descendants) >= (3 + divert_processes if when == READY else 3), run.descendants
        # A clean stop waits for every process; a SIGKILLed supervisor cannot, and make returns at once.
        run.assert_nothing_left(dying=any(number == signal.SIGKILL for _, number in signals))
    finally:
        run.kill_what_is_left()


def test_a_start_on_ports_an_earlier_stack_holds_names_the_holder_and_starts_nothing(tmp_path: Path) -> None:
    kafka = free_port()
    earlier = MakeRun(tmp_path / "earlier", ("--port", f"kafka={kafka}"))
    try:
        earlier.wait_until_ready()
        earlier.wait_for_the_first_purge()  # so that what runs now is what keeps running
        broker = earlier.pid_of(f"broker --listener-url tcp://127.0.0.1:{kafka}")
        supervisor = earlier.pid_of("divert run")
        running = _pids_and_commands(earlier.alive())

        later = tmp_path / "later"
        second = subprocess.run(
            [venv_bin("divert"), "run", "--data-dir", str(later), "--free-ports", "--port", f"kafka={kafka}"],
            capture_output=True,
            text=True,
            timeout=WITHIN,
            check=False,
        )

        assert second.returncode == 1, second
        assert f"kafka port {kafka}: PID {broker} ({_command_line(broker)})" in second.stderr
        assert f"started by PID {supervisor} ({_command_line(supervisor)})" in second.stderr
        assert not later.exists()  # it stopped before making anything
        assert _pids_and_commands(earlier.alive()) == running  # and touched nothing of the earlier stack

        earlier.signal_group(signal.SIGINT)
        earlier.wait_until_exited()
        earlier.assert_nothing_left()
    finally:
        earlier.kill_what_is_left()


def test_a_port_option_that_names_no_part_is_refused_before_anything_starts(tmp_path: Path) -> None:
    refused = subprocess.run(
        [venv_bin("divert"), "run", "--data-dir", str(tmp_path / "divert"), "--port", "kafak=19092"],
        env={**os.environ, "COLUMNS": "300"},  # the error's box is as wide as the terminal: no line breaks
        capture_output=True,
        text=True,
        timeout=WITHIN,
        check=False,
    )
    assert refused.returncode == 2, refused
    assert "'kafak=19092' is not NAME=PORT" in refused.stderr and "temporal-ui" in refused.stderr
    assert not (tmp_path / "divert").exists()
