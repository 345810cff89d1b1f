"""Encryption and keyed hashing of direct identifiers.

Keys come only from settings (the environment in production). FIELD_ENCRYPTION_KEYS is a
list, newest first: MultiFernet encrypts with the first and decrypts with any, so a new
key can be added in front and old tokens re-encrypted with `manage.py rotate_identity_keys`.

`cryptography` is imported when the first token is encrypted or decrypted, not with this module:
the encrypted fields' models import it, so every process would load it at start, and most
`manage.py` commands (check, migrate) never touch an identifier
(tests/project/test_startup.py).
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    from cryptography.fernet import Fernet, MultiFernet  # heavy: imported when used (docs/benchmarks.md, start-up)

    return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])


def current_fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return current_fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    return current_fernet().decrypt(token.encode()).decode()


def decrypt_many(tokens: list[str]) -> list[str]:
    """`decrypt` of each token, the key set looked up once (the analysis reads every patient's)."""
    fernet = current_fernet()
    return [fernet.decrypt(token.encode()).decode() for token in tokens]


def reencrypt(token: str) -> str:
    """Re-encrypt a token under the newest key (no-op in meaning, new ciphertext)."""
    return current_fernet().rotate(token.encode()).decode()


def blind_index(value: str) -> str:
    """HMAC-SHA256 of a normalised identifier: equal inputs match without decryption."""
    key = settings.IDENTIFIER_HASH_KEY.encode()
    return hmac.new(key, value.strip().upper().encode(), hashlib.sha256).hexdigest()
