"""The VAPID key pair (RFC 8292) that identifies this server to push services.

Generated on first start when not configured and kept in `app_secrets`, so every instance
signs with the same key and browsers' subscriptions survive restarts.
"""

from __future__ import annotations

import base64
import time
from urllib.parse import urlsplit

import asyncpg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid

from bartender.settings import Settings

# First instance wins: the others read what it stored.
ENSURE_KEY = """
INSERT INTO app_secrets (name, value) VALUES ('vapid_p256_private', $1)
ON CONFLICT (name) DO NOTHING
"""
READ_KEY = "SELECT value FROM app_secrets WHERE name = 'vapid_p256_private'"

# A token lives 12 hours (push services refuse more than 24); re-sign well before expiry.
TOKEN_LIFETIME_S = 12 * 3600
TOKEN_REUSE_S = 3600


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _new_private_key() -> str:
    """A fresh P-256 private key as base64url of its 32-byte scalar."""
    key = ec.generate_private_key(ec.SECP256R1())
    return b64url(key.private_numbers().private_value.to_bytes(32, "big"))


class VapidKeys:
    def __init__(self, private_key: str, subject: str) -> None:
        self._vapid = Vapid.from_string(private_key)
        self.subject = subject
        point = self._vapid.public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        # what browsers pass as applicationServerKey
        self.public_key = b64url(point)
        self._tokens: dict[str, tuple[str, float]] = {}

    @classmethod
    async def load(cls, settings: Settings, pool: asyncpg.Pool) -> VapidKeys:
        private_key = settings.vapid_private_key
        if not private_key:
            await pool.execute(ENSURE_KEY, _new_private_key())
            private_key = await pool.fetchval(READ_KEY)
        return cls(private_key, settings.vapid_subject)

    def authorization(self, endpoint: str) -> str:
        """The `Authorization: vapid t=<JWT>,k=<key>` value for a push endpoint's origin."""
        parts = urlsplit(endpoint)
        audience = f"{parts.scheme}://{parts.netloc}"
        now = time.time()
        cached = self._tokens.get(audience)
        if cached is not None and cached[1] > now:
            return cached[0]
        claims = {"aud": audience, "sub": self.subject, "exp": int(now) + TOKEN_LIFETIME_S}
        header: str = self._vapid.sign(claims)["Authorization"]
        if len(self._tokens) > 1000:  # a handful of push services in practice
            self._tokens.clear()
        self._tokens[audience] = (header, now + TOKEN_REUSE_S)
        return header
