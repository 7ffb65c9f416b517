"""BARTENDER_LISTEN_DATABASE_URL gives the LISTEN connection its own URL (a direct one, when
DATABASE_URL goes through a pgbouncer in transaction mode: docs/operations.md). Shown by
pointing it at another database of the same server and finding the listener there."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import asyncpg

from tests.support import clone_template_sync, make_settings, start_server


async def _listeners_on(admin_url: str, database: str) -> int:
    conn = await asyncpg.connect(admin_url)
    try:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = $1 AND application_name LIKE 'bartender-listen-%'",
            database,
        )
        return count
    finally:
        await conn.close()


async def test_the_listen_connection_uses_its_own_url_when_given(
    database_url: str, pg_admin_url: str
) -> None:
    # another database only to see where the listener connects (a real deployment points
    # both URLs at the same database, one directly and one through pgbouncer)
    elsewhere = await asyncio.to_thread(clone_template_sync, pg_admin_url)
    pool_db = urlsplit(database_url).path.lstrip("/")
    listen_db = urlsplit(elsewhere).path.lstrip("/")
    settings = make_settings(database_url, listen_database_url=elsewhere)
    async with start_server(settings) as running:
        assert running.rt.listener.live
        assert await _listeners_on(pg_admin_url, listen_db) == 1
        assert await _listeners_on(pg_admin_url, pool_db) == 0

    async with start_server(make_settings(database_url)) as running:  # default: DATABASE_URL
        assert running.rt.listener.live
        assert await _listeners_on(pg_admin_url, pool_db) == 1
