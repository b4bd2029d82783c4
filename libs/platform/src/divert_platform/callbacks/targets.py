"""Where a callback may be sent: a partner's public HTTPS address, never into Divert's own network.

An endpoint URL is chosen by whoever registers it, so it is checked twice, like any
server-side request an outsider can aim (OWASP API7, server-side request forgery): when it is
registered (scheme, no credentials or fragment, a host that is a public address or resolves only
to public ones) and again before every attempt, because a name can be re-pointed at an internal
address after it was accepted. Even then a name could resolve differently a moment later, when
the client connects (DNS rebinding), so outside development deliveries go through
`callback_client`, whose connections resolve the host once, refuse it unless every address is
public, and connect to the address they checked; TLS still verifies the certificate against the
host's name. Redirects are never followed, and no proxy from the environment is used. In
development (`make run`, tests) plain HTTP and loopback or private addresses are allowed, so a
receiver on the same machine works.
"""

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

import httpcore
import httpx

MAX_URL_LENGTH = 2048


class UnsafeTarget(ValueError):
    """The URL may not receive callbacks; the message says why."""


def check_url(url: str, *, development: bool) -> str:
    """`url` if its form may receive callbacks (its host is checked by `check_address`)."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeTarget(f"the URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeTarget(f"the URL cannot be parsed ({error})") from error
    allowed = ("https", "http") if development else ("https",)
    if parts.scheme not in allowed:
        raise UnsafeTarget("the URL must be https://" + ("" if not development else " (or http:// in development)"))
    if not parts.hostname:
        raise UnsafeTarget("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeTarget("the URL may not carry credentials: the signature authenticates Divert")
    if parts.fragment:
        raise UnsafeTarget("the URL may not have a fragment")
    if port == 0:
        raise UnsafeTarget("the URL's port must not be 0")
    return url


def forbidden_address(address: str) -> str | None:
    """Why a partner may not be reached at `address` (None when it is a public address)."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address (cloud metadata services live there)"
    if ip.is_private or ip.is_reserved or ip.is_multicast or ip.is_unspecified or not ip.is_global:
        return "a private or reserved address"
    return None


async def check_address(url: str, *, development: bool) -> None:
    """Raise `UnsafeTarget` unless every address `url`'s host resolves to is public.

    Every address counts, not only the first: a client may connect to any of them. In
    development nothing is refused (nor resolved: an unresolvable name then fails on connecting).
    """
    if development:
        return
    parts = urlsplit(url)
    await public_addresses(parts.hostname or "", parts.port or 443)


async def public_addresses(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, when every one is public; `UnsafeTarget` otherwise."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise UnsafeTarget(f"the host does not resolve ({error.strerror})") from error
    addresses = [str(info[4][0]).split("%", 1)[0] for info in infos]
    for address in addresses:
        reason = forbidden_address(address)
        if reason is not None:
            raise UnsafeTarget(f"the host resolves to {reason}")
    if not addresses:
        raise UnsafeTarget("the host resolves to no address")
    return addresses


class PublicOnlyBackend(httpcore.AsyncNetworkBackend):
    """Opens connections to public addresses only, to the very address it checked."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface, passed on
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Resolve `host` once, refuse it unless every address is public, connect to the first."""
        address = (await public_addresses(host, port))[0]
        return await self._inner.connect_tcp(
            address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Never: a partner is not a local socket."""
        raise UnsafeTarget("callbacks never go to a local socket")

    async def sleep(self, seconds: float) -> None:
        """Wait as the underlying backend waits (between connection retries)."""
        await self._inner.sleep(seconds)


class _PublicOnlyTransport(httpx.AsyncHTTPTransport):
    def __init__(self) -> None:
        super().__init__(trust_env=False)
        # httpx offers no way to hand its pool a network backend: the same pool, with ours.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False), network_backend=PublicOnlyBackend()
        )


def callback_client(*, development: bool) -> httpx.AsyncClient:
    """The HTTP client deliveries are sent with: no redirects, no proxy from the environment, and
    outside development connections to public addresses only (`PublicOnlyBackend`)."""
    transport = None if development else _PublicOnlyTransport()
    return httpx.AsyncClient(transport=transport, follow_redirects=False, trust_env=False)
