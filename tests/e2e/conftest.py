"""The embedded stack, started once for all end-to-end tests as processes on free ports."""

from collections.abc import Iterator

import pytest

from divert_local.stack import Ports, Stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(data_dir=tmp_path_factory.mktemp("divert"), ports=Ports.free(), ui=False)
    running.start()
    try:
        yield running
    finally:
        running.stop()
        assert running.processes == []
