"""Saturation driven by wrk, a load generator in C that is not the bottleneck.

The Python generator (`bench.loadgen`) tops out near 200 requests/s on a 2-core machine, well
below what a bare FastAPI endpoint serves; a ceiling it measured was its own, and Divert's ratio to
it flattered Divert. wrk (Debian's `wrk` package, installed here when missing and allowed) drives
the saturation phases instead: closed loop, `connections` keep-alive connections over two threads.
Each POST carries its own `rms.case_number` and `Idempotency-Key`, made by the Lua script below from
the run's tag, the thread and a counter, as an RMS would send them.

wrk's latency is from send to answer on a busy connection (closed loop): at saturation it is the
queue's, as it is for the Python generator's saturation phase.
"""

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench.loadgen import SEQ

THREADS = 2
INSTALL = ["apt-get", "install", "-y", "--no-install-recommends", "wrk"]


class WrkMissing(RuntimeError):
    """wrk is not installed and could not be installed from here."""


def ensure_wrk() -> str:
    """The path of `wrk`, installing Debian's package first when it is missing and this process may."""
    if found := shutil.which("wrk"):
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        done = subprocess.run(INSTALL, capture_output=True, text=True, check=False)
        if done.returncode != 0:  # the package lists may be missing on a fresh machine
            subprocess.run(["apt-get", "update"], capture_output=True, check=False)
            subprocess.run(INSTALL, capture_output=True, check=False)
        if found := shutil.which("wrk"):
            return found
    raise WrkMissing("the benchmark drives saturation with wrk: install it with `sudo apt-get install wrk`")


def _lua_string(text: str) -> str:
    """`text` as a Lua long-bracket string literal (JSON never holds the closing bracket used)."""
    if "]==]" in text:
        raise ValueError("the text holds the long-bracket terminator")
    return f"[==[{text}]==]"


def script(headers: dict[str, str], body: str | None) -> str:
    """The Lua script: per request a fresh number in place of the body's `__SEQ__` and a fresh
    `Idempotency-Key`; `done` prints the figures as one JSON line."""
    # a space after "[": "[[" would open a long string
    header_entries = ", ".join(f"[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in headers.items())
    return f"""
local template = {_lua_string(body) if body is not None else "nil"}
local base_headers = {{ {header_entries} }}
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end
function init(args)
  prefix = args[1] .. "-t" .. thread_number .. "-"
  counter = 0
end
function request()
  counter = counter + 1
  local number = prefix .. counter
  local headers = {{}}
  for name, value in pairs(base_headers) do headers[name] = value end
  if template == nil then
    return wrk.format(nil, nil, headers, nil)
  end
  headers["Content-Type"] = "application/json"
  headers["Idempotency-Key"] = number
  return wrk.format("POST", nil, headers, (template:gsub("{SEQ}", number)))
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {{"requests": %d, "duration_us": %d, "non_2xx_3xx": %d, "connect_errors": %d, '
    .. '"read_errors": %d, "write_errors": %d, "timeouts": %d, '
    .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}}\\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


def parse(output: str) -> dict[str, Any]:
    """The figures of wrk's `done` line, as the report shows a load phase."""
    line = next((line for line in output.splitlines() if line.startswith("WRK ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no figures: {output[-500:]}")
    raw = json.loads(line[4:])
    seconds = raw["duration_us"] / 1e6
    errors = {k: raw[k] for k in ("non_2xx_3xx", "connect_errors", "read_errors", "write_errors", "timeouts")}
    ok = raw["requests"] - raw["non_2xx_3xx"]
    return {
        "generator": "wrk",
        "sent": raw["requests"],
        "achieved_rps": round(ok / seconds, 1) if seconds else 0.0,
        "errors": {k: v for k, v in errors.items() if v},
        "mean_ms": round(raw["mean_us"] / 1000, 1),
        "p50_ms": round(raw["p50_us"] / 1000, 1),
        "p90_ms": round(raw["p90_us"] / 1000, 1),
        "p99_ms": round(raw["p99_us"] / 1000, 1),
        "max_ms": round(raw["max_us"] / 1000, 1),
    }


async def saturate(
    url: str,
    seconds: float,
    connections: int,
    *,
    tag: str,
    headers: dict[str, str] | None = None,
    body: str | None = None,
) -> dict[str, Any]:
    """Drive `url` closed loop with `connections` connections for `seconds`; POST `body` (its
    `__SEQ__` numbered per request under `tag`), else GET."""
    binary = await asyncio.to_thread(ensure_wrk)
    with tempfile.TemporaryDirectory(prefix="divert-bench-wrk-") as scratch:
        lua = Path(scratch) / "load.lua"
        lua.write_text(script(headers or {}, body))
        process = await asyncio.create_subprocess_exec(
            binary,
            f"-t{min(THREADS, connections)}",
            f"-c{connections}",
            f"-d{max(round(seconds), 1)}s",
            "--timeout",
            "30s",
            "-s",
            str(lua),
            url,
            "--",
            tag,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed with exit code {process.returncode}: {out.decode()[-500:]}")
    return {"connections": connections, **parse(out.decode())}
