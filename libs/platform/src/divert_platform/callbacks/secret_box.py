"""Signing secrets at rest: encrypted with keys the database never holds.

A stolen database (or backup) must not let anyone sign callbacks as Divert, so each endpoint's
secrets are stored as Fernet tokens (AES-128-CBC and HMAC-SHA256, from `cryptography`) under
`DIVERT_CALLBACK_ENCRYPTION_KEYS`: comma-separated keys, the first encrypting, every one
decrypting, so a key is rotated by putting a new one first and dropping the old one once
`divert-intake callbacks reencrypt` has run.
"""

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

DEVELOPMENT_CALLBACK_KEY = "ZGl2ZXJ0LWRldmVsb3BtZW50LWNhbGxiYWNrLWtleSE="
"""Encrypts callback secrets under `make run` and in tests; refused outside development."""


class SecretBoxError(Exception):
    """A stored secret could not be decrypted with any configured key."""


class SecretBox:
    """Encrypts and decrypts signing secrets with the configured keys."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one callback encryption key is needed")
        self._fernet = MultiFernet([Fernet(key.strip().encode()) for key in keys])

    @classmethod
    def from_setting(cls, value: str) -> "SecretBox":
        """A box from `DIVERT_CALLBACK_ENCRYPTION_KEYS`' comma-separated value."""
        return cls([key for key in value.split(",") if key.strip()])

    def seal(self, secret: str) -> str:
        """`secret` encrypted under the first key."""
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        """The secret `sealed` holds (any configured key may have sealed it)."""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as error:
            raise SecretBoxError("a callback secret does not decrypt with any configured key") from error

    def reseal(self, sealed: str) -> str:
        """`sealed` re-encrypted under the first key (for retiring an old key)."""
        try:
            return self._fernet.rotate(sealed.encode()).decode()
        except InvalidToken as error:
            raise SecretBoxError("a callback secret does not decrypt with any configured key") from error


def valid_key(key: str) -> bool:
    """Whether `key` is a usable Fernet key (url-safe base64 of 32 bytes)."""
    try:
        Fernet(key.strip().encode())
    except ValueError:
        return False
    return True
