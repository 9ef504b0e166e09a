"""Passwords and API keys: what is shown once and what is kept (an invitation's token is
`shared.tokens.derived_token`; only its hash is kept)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps login time the same either way.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

KEY_SCHEME = "b2b"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class NewApiKey:
    prefix: str
    secret: str

    @property
    def key(self) -> str:
        """The full key, shown to its owner once: b2b_<prefix>_<secret>."""
        return f"{KEY_SCHEME}_{self.prefix}_{self.secret}"

    @property
    def secret_sha256(self) -> str:
        return sha256_hex(self.secret)


def new_api_key() -> NewApiKey:
    # The prefix finds the row; the secret (256 bits) is checked against its hash. A fast hash
    # is right here: the secret is random, so there is nothing for a slow hash to protect.
    return NewApiKey(prefix=secrets.token_hex(6), secret=secrets.token_urlsafe(32))


def parse_api_key(key: str) -> tuple[str, str] | None:
    """(prefix, secret) of a well-formed key, else None."""
    scheme, _, rest = key.partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != KEY_SCHEME or not prefix or not secret:
        return None
    return prefix, secret


def secret_matches(secret: str, expected_sha256: str) -> bool:
    return hmac.compare_digest(sha256_hex(secret), expected_sha256)
