"""`divert run`'s supervisor stops on a stop signal even when the signal's exception is lost.

Python runs a signal handler between two bytecodes of whatever the main thread runs. When that is
a callback whose exceptions Python ignores (logging's at-fork hook after a subprocess is forked),
the `StopRequested` the handler raises is dropped: the stack must still stop.
"""

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from divert_local import cli


class _StackWhoseStartSwallowsTheSignal:
    """A stack stand-in: starting it receives SIGINT where its exception is lost."""

    stopped = False

    def __init__(self, **_: Any) -> None:
        self._looked = 0

    def start(self) -> None:
        try:
            os.kill(os.getpid(), signal.SIGINT)  # the handler runs here and raises
        except KeyboardInterrupt:
            pass  # ... where Python would have ignored it

    def dead(self) -> list[str]:
        # A process "dies" on the third look, so a supervisor that missed the signal ends (code 1)
        # rather than running for ever.
        self._looked += 1
        return ["intake-api"] if self._looked >= 3 else []

    def purge(self) -> None:
        pass

    def stop(self) -> None:
        type(self).stopped = True


def test_a_stop_signal_whose_exception_was_lost_still_stops_the_stack(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(cli, "Stack", _StackWhoseStartSwallowsTheSignal)
    monkeypatch.setattr(cli, "_announce", lambda stack, data_dir: None)
    previous = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        with pytest.raises(SystemExit) as exited:
            cli.run(data_dir=tmp_path, free_ports=True, port=None)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    assert exited.value.code == 0
    assert _StackWhoseStartSwallowsTheSignal.stopped
