"""Admission control: a bound on the stock operations one process runs at once.

When the process gets less CPU (or the database less time) than the offered sales need, a
request that is admitted anyway only waits: in Litestar, for a pooled connection, behind
PostgreSQL's locks, while the phone that sent it has long given up. So every write under a
bar (`POST`/`PATCH`/`PUT`/`DELETE /api/bars/{bar_id}/...`: sales, deliveries, counts, voids
and whatever operation is added there later) takes a slot first. Beyond
`BARTENDER_MAX_IN_FLIGHT_WRITES` a request may wait for a slot, first come first served, for
at most `BARTENDER_ADMISSION_WAIT_MS` and only while fewer than that many others wait; past
either bound it is answered 503 `busy` with `Retry-After` at once, before its body is read,
its token checked or a connection taken. The short wait absorbs a stall of a few hundred
milliseconds (a checkpoint, a burst of fan-out) on a machine that is otherwise keeping up:
without it, 200 sales/s on a quiet machine met a few 503s per minute, each costing its seller
a retry a second later; the bound keeps what a real overload can queue small. The PWA's
outbox retries a refused sale with the same id, so it happens exactly once, later. Reads
(health, ready, the stock poll and its 304s, /metrics) never take a slot.

It is Litestar route middleware, so it runs after routing (the route template is known, for
the metrics) and before dependencies and body parsing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

from litestar.types import ASGIApp, Receive, Scope, Send

from bartender.errors import PROBLEM_JSON, Busy, problem_body
from bartender.settings import Settings

_READS = frozenset({"GET", "HEAD", "OPTIONS"})
_BAR_SCOPED = "/api/bars/{bar_id}/"  # Litestar's path_format: no converters


class Admission:
    """Counts stock operations in flight in this process; beyond `limit` a few may wait briefly
    for a slot (FIFO), the rest are refused."""

    def __init__(self, limit: int, wait_s: float = 0.0, max_waiters: int | None = None) -> None:
        self.limit = limit
        self.wait_s = wait_s
        self.max_waiters = limit if max_waiters is None else max_waiters
        self.in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @classmethod
    def from_settings(cls, settings: Settings) -> Admission:
        # Default: the pool's size again as a queue behind it; a sale holds its connection ~1 ms
        # when the machine is well, so that queue drains long before the acquire timeout.
        return cls(
            settings.max_in_flight_writes or 2 * settings.pool_max_size,
            wait_s=settings.admission_wait_ms / 1000,
        )

    async def acquire(self) -> bool:
        """Take a slot, waiting within the bounds; False when the request must be refused."""
        if self.in_flight < self.limit and not self._waiters:
            self.in_flight += 1
            return True
        if self.wait_s <= 0 or len(self._waiters) >= self.max_waiters:
            return False
        slot: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(slot)
        try:
            await asyncio.wait_for(asyncio.shield(slot), self.wait_s)
        except BaseException as exc:
            handed_over = slot.done() and not slot.cancelled()
            if not handed_over:
                slot.cancel()  # release() skips it
                with contextlib.suppress(ValueError):
                    self._waiters.remove(slot)
                if isinstance(exc, TimeoutError):
                    return False
                raise
            if isinstance(exc, TimeoutError):  # the slot came at the last moment
                return True
            self.release()  # cancelled while holding a slot: give it on
            raise
        return True

    def release(self) -> None:
        """Hand the slot to the longest waiter still waiting, or free it."""
        while self._waiters:
            slot = self._waiters.popleft()
            if not slot.done():
                slot.set_result(None)  # in_flight unchanged: the slot changes hands
                return
        self.in_flight -= 1

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """Litestar middleware factory: wraps one route's ASGI app with this admission."""

        async def admit(scope: Scope, receive: Receive, send: Send) -> None:
            if (
                scope["type"] != "http"
                or scope.get("method") in _READS
                or not scope.get("path_template", "").startswith(_BAR_SCOPED)
            ):
                await app(scope, receive, send)
                return
            if not await self.acquire():  # counted in bartender_http_503_total
                await _refuse(send)
                return
            try:
                await app(scope, receive, send)
            finally:
                self.release()

        return admit


async def _refuse(send: Send) -> None:
    body = problem_body(
        Busy("Too many stock operations in progress; retry shortly.", reason="admission")
    )
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", b"1"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
