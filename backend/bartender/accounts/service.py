"""Signup, login and refresh: the account side of the contract."""

from __future__ import annotations

import time
import uuid

import asyncpg

from bartender.accounts.passwords import Passwords
from bartender.accounts.schemas import (
    LoginIn,
    MembershipOut,
    MeOut,
    SessionOut,
    SignupIn,
    UserOut,
)
from bartender.accounts.throttle import LoginThrottle
from bartender.accounts.tokens import Tokens
from bartender.errors import EmailTaken, InvalidCredentials, Unauthenticated

INSERT_USER = """
INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3)
ON CONFLICT ((lower(email))) DO NOTHING
RETURNING id, email, name
"""
USER_BY_EMAIL = "SELECT id, email, name, password_hash FROM users WHERE lower(email) = lower($1)"
USER_BY_ID = "SELECT id, email, name FROM users WHERE id = $1"
MEMBERSHIPS = """
SELECT b.id AS bar_id, b.name AS bar_name, m.role
FROM memberships m JOIN bars b ON b.id = m.bar_id
WHERE m.user_id = $1 ORDER BY b.name, b.id
"""


def user_out(row: asyncpg.Record) -> UserOut:
    return UserOut(id=str(row["id"]), email=row["email"], name=row["name"])


async def memberships_of(conn: asyncpg.Connection, user_id: uuid.UUID) -> list[MembershipOut]:
    rows = await conn.fetch(MEMBERSHIPS, user_id)
    return [
        MembershipOut(bar_id=str(r["bar_id"]), bar_name=r["bar_name"], role=r["role"]) for r in rows
    ]


async def create_user(
    conn: asyncpg.Connection | asyncpg.Pool,
    passwords: Passwords,
    email: str,
    name: str,
    password: str,
) -> asyncpg.Record:
    """Hash, then insert (given the pool, no connection is held while argon2 runs)."""
    row = await conn.fetchrow(
        INSERT_USER, email.strip(), name.strip(), await passwords.hash(password)
    )
    if row is None:
        raise EmailTaken("An account with this email already exists.")
    return row


async def signup(pool: asyncpg.Pool, passwords: Passwords, data: SignupIn) -> UserOut:
    return user_out(await create_user(pool, passwords, data.email, data.name, data.password))


async def _session(
    conn: asyncpg.Connection,
    tokens: Tokens,
    user: asyncpg.Record,
    refresh_token: str,
    issued_at: int | None = None,
) -> SessionOut:
    ttl = tokens.settings.access_token_ttl_s
    return SessionOut(
        access_token=tokens.access_token(
            user["id"],
            await tokens.family_of(conn, refresh_token),  # `sid`: ends its sockets
            issued_at,
        ),
        refresh_token=refresh_token,
        # a refresh answered again within the grace: the same token, expiring as first issued
        expires_in=ttl if issued_at is None else max(1, issued_at + ttl - int(time.time())),
        user=user_out(user),
        memberships=await memberships_of(conn, user["id"]),
    )


async def login(
    pool: asyncpg.Pool,
    passwords: Passwords,
    tokens: Tokens,
    throttle: LoginThrottle,
    data: LoginIn,
    address: str,
) -> SessionOut:
    """Check the throttle, verify the password, open a session. The argon2 verify (~100 ms
    at production cost) runs with no connection held: a burst of logins at the start of a
    shift must not take the connections the sales need."""
    async with pool.acquire() as conn:
        await throttle.check(conn, data.email, address)
        user = await conn.fetchrow(USER_BY_EMAIL, data.email.strip())
    verified = await passwords.verify(user["password_hash"] if user else None, data.password)
    async with pool.acquire() as conn:
        if not verified:
            await throttle.failed(conn, data.email, address)
            raise InvalidCredentials("Wrong email or password.")
        await throttle.succeeded(conn, data.email, address)
        assert user is not None
        refresh = await tokens.issue_refresh(conn, user["id"])
        return await _session(conn, tokens, user, refresh)


async def refresh(conn: asyncpg.Connection, tokens: Tokens, refresh_token: str) -> SessionOut:
    rotation = await tokens.rotate_refresh(conn, refresh_token)
    user = await conn.fetchrow(USER_BY_ID, rotation.user_id)
    if user is None:
        raise Unauthenticated("This account no longer exists.")
    return await _session(conn, tokens, user, rotation.refresh_token, rotation.issued_at)


async def me(conn: asyncpg.Connection, user_id: uuid.UUID) -> MeOut:
    """The caller's account and memberships (an account deleted since the token: 401)."""
    user = await conn.fetchrow(USER_BY_ID, user_id)
    if user is None:
        raise Unauthenticated("This account no longer exists.")
    return MeOut(user=user_out(user), memberships=await memberships_of(conn, user_id))
