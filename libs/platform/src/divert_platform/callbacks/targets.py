"""Where a callback may be sent: a partner's public HTTPS address, never into Divert's own network.

An endpoint URL is chosen by whoever registers it, so it is checked twice, like any
server-side request an outsider can aim (OWASP API7, server-side request forgery): when it is
registered (scheme, no credentials or fragment, a host that is a public address or resolves only
to public ones) and again before every attempt, because a name can be re-pointed at an internal
address after it was accepted. Redirects are never followed. In development (`make run`, tests)
plain HTTP and loopback or private addresses are allowed, so a receiver on the same machine works.
"""

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

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
    host = parts.hostname or ""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise UnsafeTarget(f"the host does not resolve ({error.strerror})") from error
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]
        reason = forbidden_address(address)
        if reason is not None:
            raise UnsafeTarget(f"the host resolves to {reason}")
