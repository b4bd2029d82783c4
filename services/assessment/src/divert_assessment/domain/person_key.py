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


# ---------------------------------------------------------------- people of an evaluator's upload

ONE_WAY = "give either person_key, or rms_agency and rms_person_id, or family_name, given_name and date_of_birth"
"""How a person of an evaluator's upload may be identified (docs/domain.md#outcome-measures)."""


def identity_given(
    *,
    rms_agency: str | None,
    rms_person_id: str | None,
    family_name: str | None,
    given_name: str | None,
    date_of_birth: date | None,
) -> Identity | None:
    """The identity an evaluator's record gives, if any: the RMS agency and its person id, or the
    family name, given name and date of birth — the two identities `person_key` keys, each whole.

    None when no part is given. Raises ValueError for parts of both, part of one, or a part that
    normalises to nothing (a key made from it would match people by the other parts alone). The
    messages name the fields, never what they hold."""
    by_rms = (rms_agency, rms_person_id)
    by_name = (family_name, given_name, date_of_birth)
    if all(part is None for part in by_rms + by_name):
        return None
    if rms_agency is not None and rms_person_id is not None and all(part is None for part in by_name):
        if not normalised_identifier(rms_agency) or not normalised_identifier(rms_person_id):
            raise ValueError("rms_agency and rms_person_id must each hold more than space")
        return Identity(rms_agency, rms_person_id, family_name="", given_name="", date_of_birth=None)
    if family_name is not None and given_name is not None and date_of_birth is not None and by_rms == (None, None):
        if not normalised_name(family_name) or not normalised_name(given_name):
            raise ValueError("family_name and given_name must each hold a letter or digit")
        return Identity("", None, family_name, given_name, date_of_birth)
    raise ValueError(ONE_WAY)


def one_way(key: str | None, identity: Identity | None) -> None:
    """Refuses (ValueError) a person of an upload given by both a person key and an identity, or by neither."""
    if (key is None) == (identity is None):
        raise ValueError(ONE_WAY)


def key_given(secret: bytes, key: str | None, identity: Identity | None) -> str:
    """The person key of a person of an upload: the key given, or the identity keyed under
    `secret` — so a person given by identity and the same person given by key are one person.
    Raises ValueError unless exactly one of the two is given."""
    if identity is not None and key is None:
        return person_key(secret, identity)
    if key is not None and identity is None:
        return key
    raise ValueError(ONE_WAY)
