"""Apply the piccolo migrations in `migrations/`, once, whichever instance starts first.

Each migration applies versioned .sql files (schema and plpgsql functions) written to be
idempotent; piccolo records which ran. A session advisory lock serialises concurrent starts.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg

log = logging.getLogger("bartender.migrate")

_MIGRATION_LOCK = 7_211_000_001  # arbitrary advisory-lock key owned by BarTender


async def run_sql_file(path: Path) -> None:
    """Run a .sql script inside the migration's transaction (used by migration modules)."""
    from piccolo.engine import engine_finder

    engine = engine_finder()
    assert engine is not None
    transaction = engine.current_transaction.get()
    sql = path.read_text(encoding="utf-8")
    if transaction is not None:
        await transaction.connection.execute(sql)
    else:  # piccolo ran us outside a transaction: use our own
        conn = await asyncpg.connect(os.environ["BARTENDER_MIGRATE_DSN"])
        try:
            async with conn.transaction():
                await conn.execute(sql)
        finally:
            await conn.close()


def sql_folder_migration(
    migration_id: str, description: str, folder: Path
) -> Callable[[], Awaitable[object]]:
    """The `forwards` of a migration module that applies `folder/*.sql` in name order."""

    async def forwards() -> object:
        from piccolo.apps.migrations.auto.migration_manager import MigrationManager

        manager = MigrationManager(
            migration_id=migration_id, app_name="bartender", description=description
        )

        async def apply() -> None:
            for path in sorted(folder.glob("*.sql")):
                await run_sql_file(path)

        manager.add_raw(apply)
        return manager

    return forwards


async def migrate(dsn: str) -> None:
    os.environ["BARTENDER_MIGRATE_DSN"] = dsn
    os.environ["PICCOLO_CONF"] = "bartender.db.piccolo_conf"
    from piccolo.apps.migrations.commands.forwards import run_forwards

    from bartender.db import piccolo_conf

    piccolo_conf.DB.config = {"dsn": dsn}  # the engine outlives one call in tests' processes

    lock_conn = await asyncpg.connect(dsn)
    try:
        await lock_conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        chatter = io.StringIO()  # piccolo prints progress with emoji; keep it in our log
        with contextlib.redirect_stdout(chatter):
            result = await run_forwards(app_name="bartender")
        for line in chatter.getvalue().splitlines():
            if line.strip():
                log.info("%s", line.strip())
        if not result.success:
            raise RuntimeError(f"migration failed: {result.message}")
    finally:
        await lock_conn.close()
