"""Login throttling per email and per client address, shared by all instances (PostgreSQL).

A fixed window: after `max` failures within `window_s` of the first one, logins for that key
answer 429 until the window ends. A success clears the email's counter.
"""

from __future__ import annotations

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


class LoginThrottle:
    def __init__(self, settings: Settings) -> None:
        self.window = float(settings.login_window_s)
        self.max_email = settings.login_max_failures_per_email
        self.max_address = settings.login_max_failures_per_address

    @staticmethod
    def keys(email: str, address: str) -> tuple[str, str]:
        return f"email:{email.strip().lower()}", f"ip:{address}"

    async def check(self, conn: asyncpg.Connection, email: str, address: str) -> None:
        email_key, address_key = self.keys(email, address)
        wait = await conn.fetchval(
            BLOCKED, email_key, address_key, self.window, self.max_email, self.max_address
        )
        if wait is not None and wait > 0:
            raise TooManyAttempts(max(1, math.ceil(float(wait))))

    async def failed(self, conn: asyncpg.Connection, email: str, address: str) -> None:
        for key in self.keys(email, address):
            await conn.execute(RECORD_FAILURE, key, self.window)

    async def succeeded(self, conn: asyncpg.Connection, email: str, address: str) -> None:
        await conn.execute(CLEAR, self.keys(email, address)[0])
