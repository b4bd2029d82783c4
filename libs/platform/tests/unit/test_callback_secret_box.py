"""Signing secrets at rest: sealed under the first key, opened by any configured key, moved to a
new key by resealing, and never opened by a key that did not seal them."""

import pytest
from cryptography.fernet import Fernet

from divert_platform.callbacks.secret_box import DEVELOPMENT_CALLBACK_KEY, SecretBox, SecretBoxError, valid_key
from divert_platform.callbacks.signing import new_secret


def _key() -> str:
    return Fernet.generate_key().decode()


def test_a_sealed_secret_does_not_show_the_secret_and_opens_again() -> None:
    box, secret = SecretBox([_key()]), new_secret()
    sealed = box.seal(secret)
    assert secret not in sealed
    assert secret.removeprefix("whsec_") not in sealed
    assert box.open(sealed) == secret
    assert box.seal(secret) != sealed  # a fresh IV each time: equal secrets do not look equal


def test_a_second_key_in_the_list_still_opens_what_the_old_key_sealed() -> None:
    old, new, secret = _key(), _key(), new_secret()
    sealed = SecretBox([old]).seal(secret)
    rotating = SecretBox([new, old])
    assert rotating.open(sealed) == secret


def test_reseal_moves_a_secret_to_the_first_key() -> None:
    old, new, secret = _key(), _key(), new_secret()
    sealed = SecretBox([old]).seal(secret)
    resealed = SecretBox([new, old]).reseal(sealed)
    assert SecretBox([new]).open(resealed) == secret  # the old key can now be dropped
    with pytest.raises(SecretBoxError):
        SecretBox([old]).open(resealed)


def test_a_wrong_key_raises_secret_box_error() -> None:
    sealed = SecretBox([_key()]).seal(new_secret())
    with pytest.raises(SecretBoxError):
        SecretBox([_key()]).open(sealed)
    with pytest.raises(SecretBoxError):
        SecretBox([_key()]).reseal(sealed)
    with pytest.raises(SecretBoxError):
        SecretBox([_key()]).open("not a token")


def test_keys_come_from_a_comma_separated_setting() -> None:
    first, second, secret = _key(), _key(), new_secret()
    box = SecretBox.from_setting(f" {first} , {second},")
    assert SecretBox([first]).open(box.seal(secret)) == secret  # the first key encrypts
    assert box.open(SecretBox([second]).seal(secret)) == secret  # every key decrypts


def test_at_least_one_valid_key_is_needed() -> None:
    with pytest.raises(ValueError):
        SecretBox([])
    with pytest.raises(ValueError):
        SecretBox.from_setting(" , ")
    assert valid_key(DEVELOPMENT_CALLBACK_KEY) and valid_key(_key())
    assert not valid_key("too-short") and not valid_key("")
