"""Encryption at rest for stored secrets (API credentials, webhook secrets, tokens).

``ENCRYPTION_KEYS`` is a comma-separated list of Fernet keys: the first encrypts,
every one decrypts, so keys are rotated by putting a new key first, running
``rotate`` over the data, and then dropping the old key.

Columns declared with :class:`EncryptedText` or :class:`EncryptedJSON` encrypt on
the way into the database and decrypt on the way out; the rest of the code only
ever sees plain values.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class KeyRing:
    """The process-wide set of Fernet keys, configured by ``create_app``."""

    def __init__(self) -> None:
        self._fernet: MultiFernet | None = None

    def configure(self, keys: str) -> None:
        parts = [part.strip() for part in keys.split(",") if part.strip()]
        if not parts:
            raise RuntimeError("ENCRYPTION_KEYS holds no key")
        try:
            self._fernet = MultiFernet([Fernet(part.encode()) for part in parts])
        except ValueError as exc:
            raise RuntimeError(
                "ENCRYPTION_KEYS must be url-safe base64 Fernet keys of 32 bytes"
            ) from exc

    @property
    def fernet(self) -> MultiFernet:
        if self._fernet is None:
            raise RuntimeError("encryption keys are not configured; call create_app first")
        return self._fernet

    def encrypt(self, plain: str) -> str:
        return self.fernet.encrypt(plain.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self.fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            # Never include the token: it is the secret's ciphertext.
            raise RuntimeError(
                "a stored secret could not be decrypted with ENCRYPTION_KEYS"
            ) from exc

    def rotate(self, token: str) -> str:
        """Re-encrypt ``token`` under the first key."""
        return self.fernet.rotate(token.encode()).decode()


keyring = KeyRing()


class EncryptedText(sa.TypeDecorator):
    """A string column stored as Fernet ciphertext."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        if value is None:
            return None
        return keyring.encrypt(value)

    def process_result_value(self, value: str | None, dialect) -> str | None:
        if value is None:
            return None
        return keyring.decrypt(value)


class EncryptedJSON(sa.TypeDecorator):
    """A JSON document stored as one Fernet token (for credential bundles)."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect) -> str | None:
        if value is None:
            return None
        return keyring.encrypt(json.dumps(value, separators=(",", ":")))

    def process_result_value(self, value: str | None, dialect) -> Any:
        if value is None:
            return None
        return json.loads(keyring.decrypt(value))
