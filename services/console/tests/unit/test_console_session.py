"""The session cookie: encrypted, signed, short-lived; a forged or stale one is no session at all."""

import time

from cryptography.fernet import Fernet

from divert_console.entrypoints.session import MAX_COOKIE_BYTES, EncryptedSession

KEY = Fernet.generate_key().decode()


async def _app(scope: object, receive: object, send: object) -> None:  # never called by these tests
    raise AssertionError


def test_a_session_survives_the_round_trip_and_its_token_is_not_readable_in_the_cookie() -> None:
    session = EncryptedSession(_app, key=KEY, max_age_seconds=60, secure=True)
    cookie = session.dump({"token": "eyJ-the-users-api-token", "csrf": "x"})
    assert "eyJ-the-users-api-token" not in cookie
    assert session.load(cookie) == {"token": "eyJ-the-users-api-token", "csrf": "x"}


def test_a_tampered_or_foreign_cookie_is_an_empty_session() -> None:
    session = EncryptedSession(_app, key=KEY, max_age_seconds=60, secure=True)
    cookie = session.dump({"token": "t"})
    tampered = cookie[:-6] + ("A" if cookie[-6] != "A" else "B") + cookie[-5:]
    other = EncryptedSession(_app, key=Fernet.generate_key().decode(), max_age_seconds=60, secure=True)
    assert session.load(tampered) == {}
    assert session.load(other.dump({"token": "t"})) == {}
    assert session.load("not a cookie") == {}
    assert session.load(None) == {}


def test_a_session_older_than_its_lifetime_is_gone() -> None:
    session = EncryptedSession(_app, key=KEY, max_age_seconds=1, secure=False)
    cookie = session.dump({"token": "t"})
    time.sleep(2.1)
    assert session.load(cookie) == {}


def test_the_cookie_is_http_only_same_site_and_host_only_secure_outside_development() -> None:
    production = EncryptedSession(_app, key=KEY, max_age_seconds=60, secure=True)
    header = production._cookie_header({"token": "t"})
    assert header.startswith("__Host-divert_session=")
    for flag in ("; Path=/", "; HttpOnly", "; SameSite=Lax", "; Secure"):
        assert flag in header
    development = EncryptedSession(_app, key=KEY, max_age_seconds=60, secure=False)
    assert "; Secure" not in development._cookie_header({"token": "t"})


def test_a_session_too_big_for_a_cookie_is_dropped_not_cut() -> None:
    session = EncryptedSession(_app, key=KEY, max_age_seconds=60, secure=False)
    header = session._cookie_header({"token": "x" * MAX_COOKIE_BYTES})
    assert header.startswith("divert_session=;") and "Max-Age=0" in header
