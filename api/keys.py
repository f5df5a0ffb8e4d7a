"""The shape of API keys: ``sk_<prefix>_<secret>``.

The prefix (12 hex characters) finds the key's row; the secret (43 URL-safe characters, 256
bits) is compared as a SHA-256 hash in constant time. A high-entropy secret needs no slow hash:
nobody can guess it, so the hash only has to stop a copy of the database from being a key.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

KEY_PREFIX = "sk"
PREFIX_BYTES = 6
SECRET_BYTES = 32


@dataclass(frozen=True)
class NewKey:
    prefix: str
    secret: str

    @property
    def token(self) -> str:
        return f"{KEY_PREFIX}_{self.prefix}_{self.secret}"


def generate() -> NewKey:
    return NewKey(
        prefix=secrets.token_hex(PREFIX_BYTES), secret=secrets.token_urlsafe(SECRET_BYTES)
    )


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split(token: str) -> tuple[str, str] | None:
    """(prefix, secret) of a token shaped like a key, else None."""
    parts = (token or "").strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    prefix, secret = parts[1], parts[2]
    if len(prefix) != PREFIX_BYTES * 2 or len(secret) > 100:
        return None
    return prefix, secret


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
