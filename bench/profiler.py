"""Sampling profiles of the stack's processes with py-spy, summarised as their top frames.

py-spy samples another process from outside (`--nonblocking`: without pausing it), so the
service runs unmodified. Only on-CPU samples are kept (py-spy leaves idle threads out): the
shares below are of the CPU time the process spent, not of wall time.
"""

import asyncio
import re
import shutil
import signal
from collections import Counter
from pathlib import Path
from typing import Any

from divert_platform.embedded import venv_bin

# Leaf frames that are a thread waiting in epoll, which py-spy's idle detection does not always
# recognise: left out of every share. (uvloop's loop, `Runner.run` in the API, waits inside C and
# cannot be split from its real I/O work, so it stays in.)
IDLE = frozenset({"EpollSelector.select (selectors.py)", "_PollLikeSelector.select (selectors.py)"})
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>.*?)(?::(?P<line>\d+))?\)$")
# py-spy already shows most files relative to their package; these catch the absolute ones left.
_SHORT = (re.compile(r"site-packages/(.*)$"), re.compile(r"/src/(divert_.*)$"), re.compile(r"/python3\.\d+/(.*)$"))


def available() -> bool:
    """Whether py-spy is installed (it is pinned in constraints.txt)."""
    try:
        venv_bin("py-spy")
    except FileNotFoundError:
        return shutil.which("py-spy") is not None
    return True


class Recording:
    """`py-spy record` of one process until `stop()`; then `summary()`."""

    def __init__(self, pid: int, output: Path, *, rate: int = 100) -> None:
        self.pid, self.output, self.rate = pid, output, rate
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> "Recording":
        self._process = await asyncio.create_subprocess_exec(
            venv_bin("py-spy"),
            "record",
            "--pid",
            str(self.pid),
            "--rate",
            str(self.rate),
            "--format",
            "raw",
            "--function",
            "--nonblocking",
            "--output",
            str(self.output),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        return self

    async def stop(self) -> dict[str, Any]:
        """Stop sampling (py-spy writes its file on SIGINT) and summarise what it saw."""
        assert self._process is not None
        if self._process.returncode is None:
            self._process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self._process.wait(), timeout=30)
            except TimeoutError:
                self._process.kill()
                await self._process.wait()
        return summarize(self.output) if self.output.exists() else {"error": "py-spy wrote no profile"}


def short_frame(frame: str) -> str:
    """`function (file)` with the file relative to its package (no paths of this machine)."""
    match = _FRAME.match(frame)
    if match is None:
        return frame
    path = match["file"]
    for pattern in _SHORT:
        if found := pattern.search(path):
            path = found[1]
            break
    else:
        if path.startswith("/"):
            path = Path(path).name
    return f"{match['function']} ({path})"


def package_of(frame: str) -> str:
    """The top-level package a (shortened) frame belongs to: `sqlalchemy`, `divert_intake`, `asyncio`..."""
    match = _FRAME.match(frame)
    path = match["file"] if match else frame
    return path.split("/")[0].removesuffix(".py") if "/" in path else path.removesuffix(".py")


def summarize(raw: Path, top: int = 15) -> dict[str, Any]:
    """Top frames by own (self) samples, Divert's functions and packages by inclusive samples
    (shares of the samples that were not waiting in epoll)."""
    own: Counter[str] = Counter()
    divert: Counter[str] = Counter()
    packages_self: Counter[str] = Counter()
    packages_inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [short_frame(frame) for frame in stack.split(";") if _FRAME.match(frame)]
        if not frames or frames[-1] in IDLE:
            continue
        total += count
        own[frames[-1]] += count
        packages_self[package_of(frames[-1])] += count
        for frame in set(frames):
            if frame.split("(")[-1].startswith("divert_"):
                divert[frame] += count
        for package in {package_of(frame) for frame in frames}:
            packages_inclusive[package] += count

    def shares(counter: Counter[str], n: int = top) -> list[tuple[str, float]]:
        return [(name, round(100 * value / total, 1)) for name, value in counter.most_common(n)] if total else []

    return {
        "samples": total,
        "self": shares(own),
        "divert_inclusive": shares(divert),
        "packages_self": shares(packages_self, 12),
        "packages_inclusive": shares(packages_inclusive, 12),
    }
