"""Login throttling that slows down only the one failing, shared by all instances (PostgreSQL).

Two fixed windows of failures: per (account, client address) and per client address. An
account's correct password is never refused because someone else fails against it from
elsewhere (all phones of a bar share one address behind its Wi-Fi, and an attacker must not
be able to lock the staff out); after `max` failures within `window_s` of the first one,
the failing key answers 429 until its window ends. A success clears its (account, address)
counter, never the address's: an attacker cannot reset its own budget with an account of
its own. The client address comes from `client_address` (X-Forwarded-For only from trusted
proxies).
"""

from __future__ import annotations

import functools
import ipaddress
import math

import asyncpg

from bartender.errors import TooManyAttempts
from bartender.settings import Settings

BLOCKED = """
SELECT max(EXTRACT(EPOCH FROM (window_start + make_interval(secs => $3)) - now()))
FROM login_failures
WHERE (key = $1 AND failures >= $4 OR key = $2 AND failures >= $5)
  AND window_start + make_interval(secs => $3) > now()
"""
RECORD_FAILURE = """
INSERT INTO login_failures AS f (key, window_start, failures) VALUES ($1, now(), 1)
ON CONFLICT (key) DO UPDATE SET
    failures = CASE WHEN f.window_start + make_interval(secs => $2) <= now() THEN 1
                    ELSE f.failures + 1 END,
    window_start = CASE WHEN f.window_start + make_interval(secs => $2) <= now() THEN now()
                        ELSE f.window_start END
"""
CLEAR = "DELETE FROM login_failures WHERE key = $1"
# Windows that ended: an attacker spraying emails would otherwise grow the table for ever.
PRUNE = "DELETE FROM login_failures WHERE window_start + make_interval(secs => $1) <= now()"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.cache
def trusted_networks(spec: str) -> tuple[Network, ...]:
    """`BARTENDER_TRUSTED_PROXIES` parsed: "127.0.0.1/32, ::1, 10.0.0.0/8" (empty: none)."""
    return tuple(
        ipaddress.ip_network(p.strip(), strict=False) for p in spec.split(",") if p.strip()
    )


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(peer: str | None, forwarded_for: list[str], trusted_proxies: str) -> str:
    """The client's address: the peer's, or, when the peer is a trusted proxy, the nearest
    X-Forwarded-For hop that is not itself a trusted proxy (hops to its left can be forged
    by the client; the ones to its right were appended by proxies we trust)."""
    networks = trusted_networks(trusted_proxies)
    address = peer or "unknown"
    if not _trusted(address, networks):
        return address
    hops = [h.strip() for value in forwarded_for for h in value.split(",") if h.strip()]
    for hop in reversed(hops):
        address = hop
        if not _trusted(hop, networks):
            break
    return address


class LoginThrottle:
    def __init__(self, settings: Settings) -> None:
        self.window = float(settings.login_window_s)
        self.max_pair = settings.login_max_failures_per_email
        self.max_address = settings.login_max_failures_per_address
        self.prune_every = 256  # failures recorded by this process between two prunes
        self._recorded = 0

    @staticmethod
    def keys(email: str, address: str) -> tuple[str, str]:
        """The (account, address) key and the address key of the login_failures table."""
        return f"email:{email.strip().lower()}|ip:{address}", f"ip:{address}"

    async def check(self, conn: asyncpg.Connection, email: str, address: str) -> None:
        pair_key, address_key = self.keys(email, address)
        wait = await conn.fetchval(
            BLOCKED, pair_key, address_key, self.window, self.max_pair, self.max_address
        )
        if wait is not None and wait > 0:
            raise TooManyAttempts(max(1, math.ceil(float(wait))))

    async def failed(self, conn: asyncpg.Connection, email: str, address: str) -> None:
        for key in self.keys(email, address):
            await conn.execute(RECORD_FAILURE, key, self.window)
        self._recorded += 1
        if self._recorded % self.prune_every == 0:
            await conn.execute(PRUNE, self.window)

    async def succeeded(self, conn: asyncpg.Connection, email: str, address: str) -> None:
        await conn.execute(CLEAR, self.keys(email, address)[0])
