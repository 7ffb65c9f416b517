"""Short-lived JWT access tokens and rotating, reuse-detecting refresh tokens.

A refresh token is spent once and replaced by its successor. Presented again within
`refresh_grace_s` of being spent (the answer was lost on flaky Wi-Fi, two tabs refreshed at
once), it returns the same successor pair instead of logging the phone out: the successor is
derived from the spent token with the server's secret (so it need not be stored, only its
hash is) and the access token is signed with the spend time as `iat` (so it is the same
token). Presented later, it means the token was stolen or replayed: the family is revoked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import jwt

from bartender.errors import Unauthenticated
from bartender.settings import Settings

# The secret is generated once and shared by every instance through the database.
ENSURE_SECRET = """
INSERT INTO app_secrets (name, value) VALUES ('jwt_hs256', $1) ON CONFLICT (name) DO NOTHING
"""
READ_SECRET = "SELECT value FROM app_secrets WHERE name = 'jwt_hs256'"

# Access tokens already verified -> their claims, until they expire. A phone sends the same
# token for its whole lifetime, and checking the signature again is ~5 % of a sale's CPU. The
# key is the whole token, so an altered one is verified afresh; bounded, then started over.
VERIFIED_MAX = 10_000

INSERT_REFRESH = """
INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at)
VALUES ($1, $2, $3, now() + make_interval(secs => $4))
"""
# Spend a token: only a live, unused one can be spent, once (the row lock serialises twins).
SPEND_REFRESH = """
UPDATE refresh_tokens SET used_at = now()
WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
RETURNING family_id, user_id, used_at
"""
# A token spent within the grace, of a login still live: its successor pair is answered again.
SPENT_WITHIN_GRACE = """
SELECT family_id, user_id, used_at FROM refresh_tokens
WHERE token_hash = $1 AND used_at > now() - make_interval(secs => $2)
  AND revoked_at IS NULL AND expires_at > now()
"""
FIND_REFRESH = "SELECT family_id, used_at FROM refresh_tokens WHERE token_hash = $1"
FIND_FAMILY = "SELECT family_id FROM refresh_tokens WHERE token_hash = $1"
# Revoking a login also tells every instance (on commit) to close that login's websockets.
REVOKE_FAMILY = """
WITH revoked AS (
    UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL
    RETURNING 1
)
SELECT pg_notify('bt_session', $1::text) FROM (SELECT count(*) FROM revoked) AS done
"""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    expires_at: float  # unix time
    session_id: str | None  # the refresh family (absent from tokens made before it existed)


@dataclass(frozen=True, slots=True)
class Rotation:
    """A spent refresh token's successor: the same on a retry within the grace."""

    user_id: uuid.UUID
    family_id: uuid.UUID
    refresh_token: str
    issued_at: int  # the spend time (unix s): the successor access token's `iat`


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class Tokens:
    def __init__(self, settings: Settings, secret: str) -> None:
        self.settings = settings
        self._secret = secret
        self._verified: dict[str, AccessClaims] = {}

    @classmethod
    async def load(cls, settings: Settings, pool: asyncpg.Pool) -> Tokens:
        secret = settings.jwt_secret
        if not secret:
            await pool.execute(ENSURE_SECRET, secrets.token_urlsafe(48))
            secret = await pool.fetchval(READ_SECRET)
        return cls(settings, secret)

    def access_token(
        self,
        user_id: uuid.UUID | str,
        session_id: uuid.UUID | None = None,
        issued_at: int | None = None,
    ) -> str:
        """`session_id` (claim `sid`) is the login's refresh family: revoking it ends the
        websockets opened with this token (realtime/hub.py). `issued_at` (default now) makes
        the same claims, hence the same token, again (refresh grace)."""
        now = int(time.time()) if issued_at is None else issued_at
        claims = {
            "sub": str(user_id),
            "iat": now,
            "exp": now + self.settings.access_token_ttl_s,
            "typ": "access",
        }
        if session_id is not None:
            claims["sid"] = str(session_id)
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def user_id(self, token: str) -> uuid.UUID:
        """The user an access token stands for; Unauthenticated when invalid or expired."""
        return self.access_claims(token).user_id

    def access_claims(self, token: str) -> AccessClaims:
        """Who, until when and for which login; Unauthenticated when invalid or expired."""
        known = self._verified.get(token)
        if known is not None and known.expires_at > time.time():  # as PyJWT's exp check
            return known
        try:
            claims: dict[str, Any] = jwt.decode(
                token, self._secret, algorithms=["HS256"], options={"require": ["exp", "sub"]}
            )
            if claims.get("typ") != "access":
                raise Unauthenticated("Not an access token.")
            sid = claims.get("sid")
            verified = AccessClaims(uuid.UUID(claims["sub"]), float(claims["exp"]), sid)
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("The access token has expired; refresh it.") from None
        except (jwt.InvalidTokenError, ValueError, TypeError):
            raise Unauthenticated("Invalid access token.") from None
        if len(self._verified) >= VERIFIED_MAX:
            self._verified.clear()
        self._verified[token] = verified
        return verified

    def _successor(self, token: str) -> str:
        """The refresh token that replaces `token`: derived, so a retry gets it again."""
        mac = hmac.new(self._secret.encode(), b"refresh-successor:" + token.encode(), "sha256")
        return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()

    async def issue_refresh(
        self,
        conn: asyncpg.Connection,
        user_id: uuid.UUID,
        family_id: uuid.UUID | None = None,
        token: str | None = None,
    ) -> str:
        token = token or secrets.token_urlsafe(32)
        await conn.execute(
            INSERT_REFRESH,
            _digest(token),
            family_id or uuid.uuid4(),
            user_id,
            float(self.settings.refresh_token_ttl_s),
        )
        return token

    async def rotate_refresh(self, conn: asyncpg.Connection, token: str) -> Rotation:
        """Spend `token` and issue its successor in the same family.

        A token presented a second time within the grace gets the same successor; later, it
        means it was stolen or replayed: the whole family (that login on every device it
        reached) is revoked.
        """
        digest = _digest(token)
        successor = self._successor(token)
        async with conn.transaction():
            row = await conn.fetchrow(SPEND_REFRESH, digest)
            if row is not None:
                await self.issue_refresh(conn, row["user_id"], row["family_id"], successor)
        if row is None:
            row = await conn.fetchrow(SPENT_WITHIN_GRACE, digest, self.settings.refresh_grace_s)
        if row is not None:
            issued_at = int(row["used_at"].timestamp())
            return Rotation(row["user_id"], row["family_id"], successor, issued_at)
        known = await conn.fetchrow(FIND_REFRESH, digest)
        if known is not None and known["used_at"] is not None:
            await conn.execute(REVOKE_FAMILY, known["family_id"])
            raise Unauthenticated("This refresh token was already used; the login is revoked.")
        raise Unauthenticated("Invalid or expired refresh token.")

    async def family_of(self, conn: asyncpg.Connection, refresh_token: str) -> uuid.UUID | None:
        """The login (refresh family) a refresh token belongs to."""
        family: uuid.UUID | None = await conn.fetchval(FIND_FAMILY, _digest(refresh_token))
        return family

    async def revoke(self, conn: asyncpg.Connection, token: str) -> None:
        known = await conn.fetchrow(FIND_REFRESH, _digest(token))
        if known is not None:
            await conn.execute(REVOKE_FAMILY, known["family_id"])
