"""Resource use of the stack's processes, read from /proc (Linux): memory and CPU seconds."""

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int) -> dict[str, float]:
    """Resident set size now and at its peak (VmHWM), in MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": fields.get("VmRSS", 0.0), "peak_rss_mb": fields.get("VmHWM", 0.0)}


def resident_mb(pids: dict[str, int]) -> dict[str, float]:
    """Resident set size now of each named process, in MiB (shared library pages count in each,
    as `ps` and the issue's figure count them)."""
    return {name: memory_mb(pid)["rss_mb"] for name, pid in pids.items()}


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    # The command name (field 2) may hold spaces; everything after its closing parenthesis is fixed.
    after_name = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(after_name[11]) + int(after_name[12])) / _TICKS


class CpuMeter:
    """CPU seconds a set of processes use between `start()` and `stop()`."""

    def __init__(self, pids: dict[str, int]) -> None:
        self._pids = pids
        self._before: dict[str, float] = {}

    def start(self) -> "CpuMeter":
        self._before = {name: cpu_seconds(pid) for name, pid in self._pids.items()}
        return self

    def stop(self) -> dict[str, float]:
        """CPU seconds used since `start()`, by process name."""
        return {name: round(cpu_seconds(pid) - self._before[name], 2) for name, pid in self._pids.items()}


def descendants(pid: int) -> list[int]:
    """Every living process started, directly or not, by `pid`."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        children.setdefault(parent, []).append(int(entry.name))
    found, pending = [], [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found
