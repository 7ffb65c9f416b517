"""Admission control: a bound on the stock operations one process runs at once.

When the process gets less CPU (or the database less time) than the offered sales need, a
request that is admitted anyway only waits: in Litestar, for a pooled connection, behind
PostgreSQL's locks, while the phone that sent it has long given up. So every write under a
bar (`POST`/`PATCH`/`PUT`/`DELETE /api/bars/{bar_id}/...`: sales, deliveries, counts, voids
and whatever operation is added there later) takes a slot first; beyond
`BARTENDER_MAX_IN_FLIGHT_WRITES` it is answered 503 `busy` with `Retry-After` at once, before
its body is read, its token checked or a connection taken. The PWA's outbox retries it with
the same id, so the sale happens exactly once, later. Reads (health, ready, the stock poll and
its 304s, /metrics) never take a slot.

It is Litestar route middleware, so it runs after routing (the route template is known, for
the metrics) and before dependencies and body parsing.
"""

from __future__ import annotations

from litestar.types import ASGIApp, Receive, Scope, Send

from bartender.errors import PROBLEM_JSON, Busy, problem_body
from bartender.settings import Settings

_READS = frozenset({"GET", "HEAD", "OPTIONS"})
_BAR_SCOPED = "/api/bars/{bar_id}/"  # Litestar's path_format: no converters


class Admission:
    """Counts stock operations in flight in this process and refuses those beyond `limit`."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> Admission:
        # Default: the pool's size again as a queue behind it; a sale holds its connection ~1 ms
        # when the machine is well, so that queue drains long before the acquire timeout.
        return cls(settings.max_in_flight_writes or 2 * settings.pool_max_size)

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
            if self.in_flight >= self.limit:  # counted in bartender_http_503_total
                await _refuse(send)
                return
            self.in_flight += 1
            try:
                await app(scope, receive, send)
            finally:
                self.in_flight -= 1

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
