"""`divert-warrants all`, as `make run` starts it: the API, relay and consumer as tasks of one
process, against a real broker and a SQLite file."""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from divert_platform.embedded import free_port, spawn, stop_processes, venv_bin


def environment(tmp_path: Path, kafka_bootstrap: str, port: int, metrics_port: int) -> dict[str, str]:
    return {
        **os.environ,
        "DIVERT_ENVIRONMENT": "development",
        "DIVERT_DATA_DIR": str(tmp_path),
        "DIVERT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'warrants.db'}",
        "DIVERT_PORT": str(port),
        "DIVERT_METRICS_PORT": str(metrics_port),
        "DIVERT_KAFKA_BOOTSTRAP": kafka_bootstrap,
    }


def start(tmp_path: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    subprocess.run([venv_bin("divert-warrants"), "migrate"], env=env, check=True, timeout=60)
    return spawn([venv_bin("divert-warrants"), "all"], env=env, log=(tmp_path / "warrants.log").open("ab"))


def ready(port: int, process: subprocess.Popen[bytes], within: float = 60) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert process.poll() is None, "divert-warrants all exited during start-up"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise TimeoutError("divert-warrants all was not ready")


def test_every_role_runs_in_the_one_process_and_sigterm_stops_them_all(tmp_path: Path, kafka_bootstrap: str) -> None:
    port, metrics_port = free_port(), free_port()
    process = start(tmp_path, environment(tmp_path, kafka_bootstrap, port, metrics_port))
    try:
        ready(port, process)
        # The relay and the consumer are running too: both report on the process's one metrics page.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            page = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=2).text
            if "divert_outbox_backlog" in page and "divert_consumer_lag" in page:
                break
            time.sleep(0.5)
        assert "divert_outbox_backlog" in page and "divert_consumer_lag" in page
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        stop_processes([process])


def test_a_role_that_fails_stops_the_process_with_an_error_naming_it(tmp_path: Path, kafka_bootstrap: str) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:  # the API's port is held by someone else
        port = taken.getsockname()[1]
        process = start(tmp_path, environment(tmp_path, kafka_bootstrap, port, free_port()))
        try:
            code = process.wait(timeout=30)
        finally:
            stop_processes([process])
    assert code == 1
    log = (tmp_path / "warrants.log").read_text()
    assert "the api role failed; stopping the process's other roles" in log
    assert "stopped because these roles failed or ended: api" in log
