"""The evaluation extract's pseudonymous person key (docs/domain.md#the-evaluation-extract).

A person key is HMAC-SHA256, under the program's secret, of a normalised identity, hex-encoded.
The identity is the one assessment already links re-referrals by — the RMS agency and its own
person id — where the referral carried a person id; otherwise the person's family name, given
name and date of birth. So every referral of one person the RMS knows gets one key, while nobody
without the secret can compute a key from a name, or a name from a key.

Limits, by construction: one person referred by two agencies, or once with and once without an
RMS person id, gets two keys; two people of the same names and date of birth without RMS ids
share one; a name spelt differently twice gives two.
"""

import hashlib
import hmac
import unicodedata
from dataclasses import dataclass
from datetime import date

KEY_HEX_LENGTH = 64
SEPARATOR = "\x1f"  # the ASCII unit separator: no normalised part can contain it, so parts never run together


@dataclass(frozen=True)
class Identity:
    """What a case knows about who the person is (from the referral)."""

    rms_agency: str
    rms_person_id: str | None
    family_name: str
    given_name: str
    date_of_birth: date | None


def normalised_name(name: str) -> str:
    """A name as compared: accents dropped, case folded, and only letters and digits kept
    (`O'Brien-Smith`, `o brien smith` and `OBRIEN SMITH` are one name)."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in decomposed.casefold() if ch.isalnum() and not unicodedata.combining(ch))


def normalised_identifier(text: str) -> str:
    """An agency or person id as compared: compatibility forms folded, surrounding space dropped, case folded."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


def identity_text(identity: Identity) -> str:
    """The normalised identity the key is made from; the two kinds are prefixed so they never meet."""
    if identity.rms_person_id and normalised_identifier(identity.rms_person_id):
        parts = ["rms", normalised_identifier(identity.rms_agency), normalised_identifier(identity.rms_person_id)]
    else:
        born = identity.date_of_birth.isoformat() if identity.date_of_birth else ""
        parts = ["name", normalised_name(identity.family_name), normalised_name(identity.given_name), born]
    return SEPARATOR.join(parts)


def person_key(secret: bytes, identity: Identity) -> str:
    """The person's pseudonymous key under `secret`: 64 lower-case hex digits."""
    return hmac.new(secret, identity_text(identity).encode(), hashlib.sha256).hexdigest()
