"""Push subscriptions, webhooks and the alerts feed: what the routes do, with their SQL."""

from __future__ import annotations

import base64
import binascii
import secrets
import uuid
from urllib.parse import urlsplit

import asyncpg
from cryptography.hazmat.primitives.asymmetric import ec

from bartender.alerts.delivery import host_problem, is_public_address
from bartender.alerts.schemas import (
    PushKeys,
    SubscriptionDeleteIn,
    SubscriptionIn,
    SubscriptionOut,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
)
from bartender.bars.access import ROLE_RANK, Manager, Owner
from bartender.errors import Forbidden, InvalidRequest, NotFound

ROLES_IN = "SELECT bar_id, role FROM memberships WHERE user_id = $1 AND bar_id = ANY ($2::uuid[])"
# A browser that changed hands (shared tablet, new login) stops alerting the previous user.
FORGET_PREVIOUS_USERS = "DELETE FROM push_subscriptions WHERE endpoint = $1 AND user_id <> $2"
# The browser renewed its keys: every bar's row of that endpoint takes them.
REKEY = """
UPDATE push_subscriptions SET p256dh = $2, auth = $3, updated_at = now()
WHERE endpoint = $1 AND (p256dh, auth) IS DISTINCT FROM ($2, $3)
"""
UPSERT_SUBSCRIPTIONS = """
INSERT INTO push_subscriptions (endpoint, bar_id, user_id, p256dh, auth)
SELECT $1, bar_id, $2, $3, $4 FROM unnest($5::uuid[]) AS bar_id
ON CONFLICT (endpoint, bar_id) DO UPDATE
SET p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth, updated_at = now()
"""
BARS_OF_ENDPOINT = """
SELECT bar_id FROM push_subscriptions WHERE endpoint = $1 AND user_id = $2 ORDER BY bar_id
"""
UNSUBSCRIBE = """
DELETE FROM push_subscriptions
WHERE endpoint = $1 AND user_id = $2 AND ($3::uuid[] IS NULL OR bar_id = ANY ($3::uuid[]))
"""

INSERT_WEBHOOK = """
INSERT INTO webhooks (bar_id, url, events, secret, created_by) VALUES ($1, $2, $3, $4, $5)
RETURNING id
"""
LIST_WEBHOOKS = """
SELECT id::text, url, events, active, bt_ts(created_at) AS created_at,
       bt_ts(failing_since) AS failing_since, last_error, bt_ts(deactivated_at) AS deactivated_at
FROM webhooks WHERE bar_id = $1 ORDER BY created_at, id
"""
DELETE_WEBHOOK = "DELETE FROM webhooks WHERE bar_id = $1 AND id = $2"

ALERTS_PAGE = """
SELECT n, json_build_object(
           'id', id, 'kind', kind, 'product_id', product_id, 'product_name', product_name,
           'stock', stock, 'low_threshold', low_threshold, 'seq', seq, 'at', bt_ts(at)
       )::text AS alert
FROM alerts
WHERE bar_id = $1 AND ($2::bigint IS NULL OR n < $2)
ORDER BY n DESC
LIMIT $3
"""


def _invalid(field: str, message: str) -> InvalidRequest:
    return InvalidRequest([{"field": field, "message": message}])


def check_url(url: str, field: str, allow_http: bool) -> None:
    """An absolute https URL to a public host (http and private hosts too when
    BARTENDER_ALLOW_HTTP_ENDPOINTS is set, for local testing)."""
    allowed = ("https", "http") if allow_http else ("https",)
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise _invalid(field, "not a valid URL") from None
    if parts.scheme not in allowed:
        raise _invalid(field, "must be an https URL")
    if not host or parts.username is not None or parts.password is not None:
        raise _invalid(field, "must name a host, without credentials")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise _invalid(field, "must not contain spaces or control characters")
    problem = host_problem(host)
    if problem:  # whatever the settings: parsers disagree on these (an SSRF bypass)
        raise _invalid(field, f"host is {problem}")
    if not allow_http and (
        host == "localhost" or host.endswith(".localhost") or is_public_address(host) is False
    ):
        raise _invalid(field, "must be a public address")


def _b64url(text: str) -> bytes:
    stripped = text.rstrip("=")
    return base64.b64decode(stripped + "=" * (-len(stripped) % 4), altchars=b"-_", validate=True)


def check_keys(keys: PushKeys) -> None:
    """The browser's P-256 public key (65-byte uncompressed point) and 16-byte auth secret."""
    try:
        point = _b64url(keys.p256dh)
        if len(point) != 65:
            raise ValueError("wrong length")
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except (ValueError, binascii.Error):
        raise _invalid("keys.p256dh", "not a base64url P-256 public key") from None
    try:
        if len(_b64url(keys.auth)) != 16:
            raise ValueError("wrong length")
    except (ValueError, binascii.Error):
        raise _invalid("keys.auth", "not a base64url 16-byte secret") from None


async def subscribe(
    conn: asyncpg.Connection, user_id: uuid.UUID, data: SubscriptionIn, allow_http: bool
) -> SubscriptionOut:
    """Subscribe a browser to the alerts of bars the caller manages (all or nothing)."""
    check_url(data.endpoint, "endpoint", allow_http)
    check_keys(data.keys)
    bar_ids = list(dict.fromkeys(data.bar_ids))
    roles = {r["bar_id"]: r["role"] for r in await conn.fetch(ROLES_IN, user_id, bar_ids)}
    for bar_id in bar_ids:
        role = roles.get(bar_id)
        if role is None:
            raise NotFound("No such bar.", bar_id=str(bar_id))
        if ROLE_RANK[role] < ROLE_RANK["manager"]:
            raise Forbidden("Low-stock alerts are for the bar's managers.", bar_id=str(bar_id))
    async with conn.transaction():
        await conn.execute(FORGET_PREVIOUS_USERS, data.endpoint, user_id)
        await conn.execute(REKEY, data.endpoint, data.keys.p256dh, data.keys.auth)
        await conn.execute(
            UPSERT_SUBSCRIPTIONS, data.endpoint, user_id, data.keys.p256dh, data.keys.auth, bar_ids
        )
        rows = await conn.fetch(BARS_OF_ENDPOINT, data.endpoint, user_id)
    return SubscriptionOut(endpoint=data.endpoint, bar_ids=[str(r["bar_id"]) for r in rows])


async def unsubscribe(
    conn: asyncpg.Connection, user_id: uuid.UUID, data: SubscriptionDeleteIn
) -> None:
    """Remove the caller's subscription of this browser (idempotent)."""
    await conn.execute(UNSUBSCRIBE, data.endpoint, user_id, data.bar_ids)


async def create_webhook(
    conn: asyncpg.Connection, member: Owner, data: WebhookIn, allow_http: bool
) -> WebhookCreated:
    check_url(data.url, "url", allow_http)
    events: list[str] = list(dict.fromkeys(data.events))
    secret = secrets.token_urlsafe(32)  # 32 random bytes, shown once
    webhook_id = await conn.fetchval(
        INSERT_WEBHOOK, member.bar_id, data.url, events, secret, member.user_id
    )
    return WebhookCreated(
        id=str(webhook_id), url=data.url, events=events, secret=secret, active=True
    )


async def list_webhooks(conn: asyncpg.Connection, member: Owner) -> list[WebhookOut]:
    return [WebhookOut(**dict(r)) for r in await conn.fetch(LIST_WEBHOOKS, member.bar_id)]


async def delete_webhook(conn: asyncpg.Connection, member: Owner, webhook_id: uuid.UUID) -> None:
    if await conn.execute(DELETE_WEBHOOK, member.bar_id, webhook_id) == "DELETE 0":
        raise NotFound("No such webhook in this bar.")


def _parse_cursor(cursor: str) -> int:
    # isdigit() alone admits non-ASCII digits ("³"), which int() rejects: a 500 before.
    if not (cursor.isascii() and cursor.isdigit()) or len(cursor) > 18:
        raise _invalid("before", "not a cursor from `next`")
    return int(cursor)


async def list_alerts(
    conn: asyncpg.Connection, member: Manager, limit: int, before: str | None
) -> bytes:
    """The bar's alerts feed, newest first, as JSON bytes (the caller is checked at the edge)."""
    rows = await conn.fetch(
        ALERTS_PAGE, member.bar_id, _parse_cursor(before) if before else None, limit + 1
    )
    page, more = rows[:limit], len(rows) > limit
    nxt = b'"%d"' % page[-1]["n"] if more else b"null"
    return b'{"alerts":[%s],"next":%s}' % (b",".join(r["alert"].encode() for r in page), nxt)
