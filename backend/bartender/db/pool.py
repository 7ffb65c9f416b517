"""The asyncpg pool every request uses, with per-connection timeouts and a query counter."""

from __future__ import annotations

from typing import Any

import asyncpg

from bartender.settings import Settings


class QueryCounter:
    """Counts statements sent through the pool (lets tests prove a poll hit no database)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, _record: Any) -> None:
        self.count += 1


async def create_pool(settings: Settings, counter: QueryCounter | None = None) -> asyncpg.Pool:
    async def init(conn: asyncpg.Connection) -> None:
        if counter is not None:
            conn.add_query_logger(counter)

    assert settings.database_url, "database_url must be resolved before the pool starts"
    return await asyncpg.create_pool(
        settings.database_url,
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        init=init,
        server_settings={
            "application_name": "bartender",
            # read by bt_stock_begin() in every stock function: SET LOCAL lock_timeout
            "bartender.lock_timeout": f"{settings.lock_timeout_ms}ms",
            "statement_timeout": f"{settings.statement_timeout_ms}ms",
            "timezone": "UTC",
        },
    )
