"""One HTTP attempt to a push service or a webhook receiver, and what it means for the row.

Every attempt has a total timeout (connect to last byte) and never follows redirects, so a
slow or hostile receiver costs one worker slot for at most that long.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from pywebpush import WebPusher

from bartender import __version__
from bartender.alerts.vapid import VapidKeys

USER_AGENT = f"BarTender/{__version__}"


@dataclass(frozen=True, slots=True)
class Outcome:
    """How an attempt ended: delivered, or why not and whether trying again makes sense."""

    delivered: bool
    error: str = ""
    # the push service says this subscription is gone for good (404/410): delete it
    gone: bool = False
    # retrying the same request can never succeed (e.g. push 400/413): drop the row
    permanent: bool = False
    # the receiver asked us to wait this long (Retry-After)
    retry_after_s: float | None = None


def is_public_address(host: str) -> bool | None:
    """True/False for an IP literal (globally routable or not); None for a name."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_global
    except ValueError:
        return None


class PublicResolver(AbstractResolver):
    """Resolves names to public addresses only, so an owner's webhook URL (or a forged push
    endpoint) cannot make the server call into its own network; checked at every connection,
    which also defeats a name re-pointed after registration."""

    def __init__(self) -> None:
        self._inner = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        public = [r for r in found if is_public_address(r["host"])]
        if not public:
            raise OSError(f"{host} has no public address")
        return public

    async def close(self) -> None:
        await self._inner.close()


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:  # an HTTP date: our backoff is good enough
        return None


async def _post(
    session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str], timeout_s: float
) -> tuple[int, str | None, str]:
    """POST once; (status, Retry-After, start of the answer's body)."""
    async with session.post(
        url,
        data=body,
        headers=headers,
        allow_redirects=False,
        timeout=aiohttp.ClientTimeout(total=timeout_s),
    ) as response:
        snippet = (await response.content.read(300)).decode("utf-8", "replace")
        return response.status, response.headers.get("Retry-After"), snippet


async def _attempt(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    headers: dict[str, str],
    timeout_s: float,
    public_only: bool,
) -> tuple[int, str | None, str] | Outcome:
    # IP literals never reach the resolver: PublicResolver's rule, applied here
    if public_only and is_public_address(urlsplit(url).hostname or "") is False:
        return Outcome(False, "not a public address")
    try:
        return await _post(session, url, body, headers, timeout_s)
    except TimeoutError:
        return Outcome(False, f"no answer within {timeout_s:g} s")
    except aiohttp.ClientError as exc:
        return Outcome(False, f"{type(exc).__name__}: {exc}"[:300])


def push_headers(
    vapid: VapidKeys, endpoint: str, kind: str, product_id: str, ttl_s: int
) -> dict[str, str]:
    return {
        "Authorization": vapid.authorization(endpoint),
        "Content-Encoding": "aes128gcm",
        "Content-Type": "application/octet-stream",
        "TTL": str(ttl_s),
        # an empty shelf needs a manager now; a low one can wait for the phone to wake
        "Urgency": "high" if kind == "out_of_stock" else "normal",
        # a newer alert for the same product replaces an undelivered older one
        "Topic": product_id.replace("-", ""),
        "User-Agent": USER_AGENT,
    }


async def send_push(
    session: aiohttp.ClientSession,
    vapid: VapidKeys,
    *,
    endpoint: str,
    p256dh: str,
    auth: str,
    payload: bytes,
    kind: str,
    product_id: str,
    ttl_s: int,
    timeout_s: float,
    public_only: bool,
) -> Outcome:
    """Encrypt (RFC 8291, aes128gcm) and POST one notification with a VAPID token."""
    try:
        pusher = WebPusher({"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}})
        body = pusher.encode(payload, "aes128gcm")["body"]
    except Exception as exc:  # keys were checked on subscribe; a bad one can never work
        return Outcome(False, f"cannot encrypt for this subscription: {exc}"[:300], permanent=True)
    result = await _attempt(
        session,
        endpoint,
        body,
        push_headers(vapid, endpoint, kind, product_id, ttl_s),
        timeout_s,
        public_only,
    )
    if isinstance(result, Outcome):
        return result
    status, retry_after, snippet = result
    if 200 <= status < 300:
        return Outcome(True)
    error = f"HTTP {status}: {snippet}".strip()[:300]
    if status in (404, 410):
        return Outcome(False, error, gone=True)
    if status == 429 or status >= 500:
        return Outcome(False, error, retry_after_s=_retry_after(retry_after))
    return Outcome(False, error, permanent=True)


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` (contract: Webhooks)."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), b"%d." % t + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


async def send_webhook(
    session: aiohttp.ClientSession,
    *,
    url: str,
    secret: str,
    event_id: str,
    event_type: str,
    body: bytes,
    timeout_s: float,
    public_only: bool,
) -> Outcome:
    """POST one event; only a 2xx answer is a delivery (a redirect is not followed)."""
    headers = {
        "Content-Type": "application/json",
        "BarTender-Event": event_type,
        "BarTender-Delivery": event_id,
        "BarTender-Signature": signature_header(secret, body),
        "User-Agent": USER_AGENT,
    }
    result = await _attempt(session, url, body, headers, timeout_s, public_only)
    if isinstance(result, Outcome):
        return result
    status, retry_after, snippet = result
    if 200 <= status < 300:
        return Outcome(True)
    return Outcome(
        False, f"HTTP {status}: {snippet}".strip()[:300], retry_after_s=_retry_after(retry_after)
    )
