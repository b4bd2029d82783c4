"""The production callback client connects to the very address it checked, and only a public one."""

import asyncio
import socket
from collections.abc import Iterable
from typing import Any

import httpcore
import pytest

from divert_platform.callbacks.targets import PublicOnlyBackend, UnsafeTarget, public_addresses


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """Stands in for the socket layer: records where it was asked to connect."""

    def __init__(self) -> None:
        self.connected: list[tuple[str, int]] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connected.append((host, port))
        return httpcore.AsyncMockStream([])

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)


def resolving_to(monkeypatch: pytest.MonkeyPatch, *addresses: str) -> list[str]:
    """Make every name resolve to `addresses`; returns the names looked up."""
    asked: list[str] = []

    async def getaddrinfo(self: Any, host: str, port: int, **_: Any) -> list[Any]:
        asked.append(host)
        family = {True: socket.AF_INET6, False: socket.AF_INET}
        return [(family[":" in a], socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", getaddrinfo)
    return asked


async def test_it_connects_to_the_public_address_it_resolved_not_to_the_name(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = resolving_to(monkeypatch, "93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946")
    inner = RecordingBackend()

    await PublicOnlyBackend(inner).connect_tcp("rms.example.org", 443)

    assert asked == ["rms.example.org"]  # one lookup, the one checked
    assert inner.connected == [("93.184.216.34", 443)]


@pytest.mark.parametrize(
    "addresses",
    [("127.0.0.1",), ("93.184.216.34", "10.1.2.3"), ("169.254.169.254",), ("::1",), ("::ffff:192.168.1.1",)],
)
async def test_a_name_with_any_private_address_is_never_connected_to(
    monkeypatch: pytest.MonkeyPatch, addresses: tuple[str, ...]
) -> None:
    resolving_to(monkeypatch, *addresses)
    inner = RecordingBackend()

    with pytest.raises(UnsafeTarget):
        await PublicOnlyBackend(inner).connect_tcp("rms.example.org", 443)
    assert inner.connected == []


async def test_a_local_socket_is_never_opened() -> None:
    with pytest.raises(UnsafeTarget):
        await PublicOnlyBackend(RecordingBackend()).connect_unix_socket("/run/docker.sock")


async def test_a_name_that_resolves_to_nothing_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    resolving_to(monkeypatch)

    with pytest.raises(UnsafeTarget, match="no address"):
        await public_addresses("rms.example.org", 443)
