"""The asyncpg pool every request uses: bounded waits, per-connection timeouts, a query counter.

Every acquire in the process goes through `BoundedPool` (handlers, dependencies, the pool's own
`fetch*`/`execute` shortcuts), so none can wait without bound when the database or the CPU is
short: after `BARTENDER_POOL_ACQUIRE_TIMEOUT_MS` it raises `Busy` (503 with Retry-After), which
a phone's outbox retries, instead of holding the request until the client gave up long ago.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from bartender.errors import Busy
from bartender.settings import Settings


class QueryCounter:
    """Counts statements sent through the pool (lets tests prove a poll hit no database)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, _record: Any) -> None:
        self.count += 1


class BoundedPool(asyncpg.Pool):
    """asyncpg's pool whose acquire gives up after a default timeout with 503 `busy`."""

    def __init__(self, *args: Any, acquire_timeout_s: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acquire_timeout_s = acquire_timeout_s
        self.waiting = 0  # acquires not yet answered (the /metrics gauge)

    # `acquire()`, `async with acquire()` and the shortcuts all funnel through `_acquire`.
    async def _acquire(self, timeout: float | None) -> Any:  # noqa: ASYNC109 (asyncpg API)
        self.waiting += 1
        try:
            return await super()._acquire(self.acquire_timeout_s if timeout is None else timeout)
        except TimeoutError:
            raise Busy(
                "No database connection came free in time; retry shortly.", reason="pool_timeout"
            ) from None
        finally:
            self.waiting -= 1

    def in_use(self) -> int:
        return self.get_size() - self.get_idle_size()


async def _keep_session(_conn: asyncpg.Connection) -> None:
    """Release without asyncpg's default reset query (a round trip per release).

    asyncpg still rolls back an open transaction and drops listeners before calling this.
    The default would also run `pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`;
    pooled connections never take session advisory locks, hold cursors outside a transaction,
    LISTEN (db/listener.py has its own connection) or SET session settings (stock functions
    use SET LOCAL), so there is nothing for it to undo.
    """


async def create_pool(settings: Settings, counter: QueryCounter | None = None) -> BoundedPool:
    async def init(conn: asyncpg.Connection) -> None:
        if counter is not None:
            conn.add_query_logger(counter)

    assert settings.database_url, "database_url must be resolved before the pool starts"
    pool = BoundedPool(
        settings.database_url,
        acquire_timeout_s=settings.pool_acquire_timeout_ms / 1000,
        connection_class=asyncpg.Connection,
        record_class=asyncpg.Record,
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        max_queries=50_000,
        max_inactive_connection_lifetime=300.0,
        connect=None,
        setup=None,
        init=init,
        reset=_keep_session,
        loop=None,
        server_settings={
            "application_name": "bartender",
            # read by bt_stock_begin() in every stock function: SET LOCAL lock_timeout
            "bartender.lock_timeout": f"{settings.lock_timeout_ms}ms",
            "statement_timeout": f"{settings.statement_timeout_ms}ms",
            "timezone": "UTC",
        },
    )
    await pool  # opens min_size connections
    return pool
