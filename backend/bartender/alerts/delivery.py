"""One HTTP attempt to a push service or a webhook receiver, and what it means for the row.

Every attempt has a total timeout (connect to last byte) and a short connect timeout, and
never follows redirects, so a slow or hostile receiver costs one attempt slot for at most
that long.

Server-side request forgery: an owner chooses webhook URLs and anyone may forge a push
endpoint, so unless BARTENDER_ALLOW_HTTP_ENDPOINTS is set (local testing) the server must
never call into its own network. Three checks, none relying on how the installed aiohttp
parses hosts: `host_problem` refuses non-canonical numeric hosts (`2130706433`,
`0177.0.0.1`, `0x7f.1`: the C resolver maps them onto 127.0.0.1) at registration and before
every attempt; `PublicResolver` resolves names to public addresses only; and the connector's
socket factory checks every address a socket is about to connect to, IP literals included.
"Public" excludes what Python's `is_global` lets through: prefixes that translate to or embed
another address (NAT64 64:ff9b::/96 and 64:ff9b:1::/48, 6to4 2002::/16, IPv4-mapped and
-compatible), and multicast.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
from aiohappyeyeballs import AddrInfoType
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


# Reach (or embed) an address we cannot see, often a private one: never public for us.
_TRANSLATION_PREFIXES = tuple(
    ipaddress.ip_network(prefix)
    for prefix in (
        "64:ff9b::/96",  # NAT64 well-known prefix (RFC 6052): 64:ff9b::7f00:1 is 127.0.0.1
        "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215)
        "2002::/16",  # 6to4 (RFC 3056): the next 32 bits are an IPv4 address
        "2001::/32",  # Teredo (RFC 4380)
        "::ffff:0:0/96",  # IPv4-mapped
        "::ffff:0:0:0/96",  # IPv4-translated (RFC 2765)
        "::/96",  # IPv4-compatible (deprecated by RFC 4291)
        "100::/64",  # discard-only
    )
)
# The last label of a host that URL parsers and the C resolver read as an IPv4 number.
_NUMERIC_LABEL = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)", re.IGNORECASE)
# After this long connecting, a receiver is down: do not spend the whole attempt timeout.
CONNECT_TIMEOUT_S = 3.0


def is_public_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Globally routable, and not a prefix that translates to another address."""
    if not ip.is_global or ip.is_multicast:
        return False
    return not any(ip in net for net in _TRANSLATION_PREFIXES if net.version == ip.version)


def host_problem(host: str) -> str | None:
    """Why this URL host is refused whatever the settings (None: it is a canonical IP literal
    or a name). Numeric forms other than the dotted quad are read differently by different
    parsers, which is how an SSRF check is walked around."""
    bare = host.strip("[]")
    if ":" in bare:
        try:
            ipaddress.IPv6Address(bare)
        except ValueError:
            return "not a valid IPv6 address"
        return None
    last = bare.rstrip(".").rsplit(".", 1)[-1]
    looks_numeric = bool(_NUMERIC_LABEL.fullmatch(last))
    if not looks_numeric:
        try:
            socket.inet_aton(bare)
            looks_numeric = True  # e.g. "127.1 x": glibc reads the address and ignores the rest
        except OSError:
            pass
    if looks_numeric:
        try:
            if str(ipaddress.IPv4Address(bare)) == bare:
                return None
        except ValueError:
            pass
        return "not a canonical IPv4 address (write it as four decimal numbers)"
    return None


def is_public_address(host: str) -> bool | None:
    """True/False for an IP literal (public or not); None for a name. A non-canonical
    numeric host is not public."""
    if host_problem(host):
        return False
    try:
        return is_public_ip(ipaddress.ip_address(host.strip("[]")))
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


def public_socket(addr_info: AddrInfoType) -> socket.socket:
    """aiohttp's socket factory, called for each address it is about to connect to (IP
    literals never reach a resolver): only public ones get a socket."""
    family, type_, proto, _, sockaddr = addr_info
    address = str(sockaddr[0])
    if not is_public_address(address):
        raise OSError(f"{address} is not a public address")
    return socket.socket(family, type_, proto)


def delivery_connector(limit: int, public_only: bool) -> aiohttp.TCPConnector:
    """The connector of the outbox worker's session; `public_only` unless local testing."""
    if not public_only:
        return aiohttp.TCPConnector(limit=limit)
    return aiohttp.TCPConnector(
        limit=limit, resolver=PublicResolver(), socket_factory=public_socket
    )


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
        timeout=aiohttp.ClientTimeout(
            total=timeout_s, sock_connect=min(CONNECT_TIMEOUT_S, timeout_s)
        ),
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
    host = urlsplit(url).hostname or ""
    problem = host_problem(host)
    if problem:  # registered before this rule: fails (visibly) until deactivated
        return Outcome(False, problem)
    # IP literals never reach the resolver: its rule, applied here too (and by the connector)
    if public_only and is_public_address(host) is False:
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
