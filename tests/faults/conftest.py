"""The fault-injection suite's stack: the whole embedded system as processes on free ports."""

from collections.abc import Iterator

import pytest

from divert_local.stack import LAYOUTS, Ports, Stack


# Every fault test runs against both layouts: `make run`'s (a process per service) and
# production's (a process per role).
@pytest.fixture(scope="session", params=LAYOUTS)
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # The rate limit is intake's defence against one runaway RMS; the workload is one client
    # sending a thousand referrals in two minutes, on purpose.
    running = Stack(
        data_dir=tmp_path_factory.mktemp("divert-faults"),
        ports=Ports.free(),
        ui=False,
        layout=request.param,
        extra_env={"DIVERT_RATE_LIMIT_PER_MINUTE": "0"},
    )
    running.start()
    try:
        yield running
    finally:
        running.stop()
        assert running.processes == []
