"""Where callbacks may go: a public HTTPS address, never loopback, private, link-local (cloud
metadata), shared (CGNAT), multicast or unspecified addresses, in any of their spellings."""

import pytest

from divert_platform.callbacks.targets import MAX_URL_LENGTH, UnsafeTarget, check_address, check_url, forbidden_address


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "::1",
        "10.0.0.1",
        "10.255.255.255",
        "172.16.0.1",
        "172.31.255.254",
        "192.168.1.1",
        "169.254.169.254",
        "fd00::1",
        "fd12:3456::1",
        "fe80::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "0.0.0.0",
        "::",
        "100.64.0.1",
        "100.127.255.254",
        "224.0.0.1",
        "239.255.255.250",
        "ff02::1",
        "240.0.0.1",
        "255.255.255.255",
    ],
)
def test_an_internal_address_is_forbidden(address: str) -> None:
    assert forbidden_address(address) is not None


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("10.0.0.1", "private"),
    ],
)
def test_the_reason_names_the_kind_of_address(address: str, reason: str) -> None:
    assert reason in (forbidden_address(address) or "")


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.215.14", "172.32.0.1", "100.128.0.1", "2606:4700::1111"])
def test_a_public_address_passes(address: str) -> None:
    assert forbidden_address(address) is None


@pytest.mark.parametrize(
    ("url", "development"),
    [
        ("https://rms.example.org/hooks/divert", False),
        ("https://rms.example.org:8443/hooks?x=1", False),
        ("http://127.0.0.1:8080/hooks", True),
        ("https://127.0.0.1/hooks", True),
    ],
)
def test_a_well_formed_url_is_accepted_as_given(url: str, development: bool) -> None:
    assert check_url(url, development=development) == url


@pytest.mark.parametrize(
    ("url", "development", "why"),
    [
        ("ftp://rms.example.org/hooks", True, "https"),
        ("ftp://rms.example.org/hooks", False, "https"),
        ("http://rms.example.org/hooks", False, "https"),
        ("rms.example.org/hooks", False, "https"),
        ("https://user:password@rms.example.org/hooks", False, "credentials"),
        ("https://user@rms.example.org/hooks", False, "credentials"),
        ("https://rms.example.org/hooks#part", False, "fragment"),
        ("https:///hooks", False, "no host"),
        ("https://rms.example.org:0/hooks", False, "port"),
        ("https://rms.example.org:99999/hooks", False, "parsed"),
        ("https://rms.example.org/" + "a" * MAX_URL_LENGTH, False, "longer"),
    ],
)
def test_a_url_that_may_not_receive_callbacks_is_refused_with_its_reason(url: str, development: bool, why: str) -> None:
    with pytest.raises(UnsafeTarget, match=why):
        check_url(url, development=development)


def test_a_url_of_exactly_the_maximum_length_is_accepted() -> None:
    url = "https://rms.example.org/"
    url += "a" * (MAX_URL_LENGTH - len(url))
    assert check_url(url, development=False) == url


@pytest.mark.parametrize(
    "url",
    [
        "https://localhost/hooks",
        "https://localhost:8443/hooks",
        "https://127.0.0.1/hooks",
        "https://[::1]/hooks",
        "https://10.1.2.3/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://[::ffff:127.0.0.1]/hooks",
        "https://0.0.0.0/hooks",
    ],
)
async def test_outside_development_a_host_resolving_to_an_internal_address_is_refused(url: str) -> None:
    with pytest.raises(UnsafeTarget, match="resolves to"):
        await check_address(url, development=False)


async def test_outside_development_a_public_address_passes() -> None:
    await check_address("https://93.184.215.14/hooks", development=False)
    await check_address("https://[2606:4700::1111]:8443/hooks", development=False)


async def test_in_development_nothing_is_refused_or_resolved() -> None:
    await check_address("http://localhost:8080/hooks", development=True)
    await check_address("http://10.1.2.3/hooks", development=True)
    await check_address("http://no-such-host.invalid/hooks", development=True)
