"""Realtime: per-bar catalog version and the NOTIFY that carries catalog changes to sockets."""

from pathlib import Path

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from bartender.db.migrate import run_sql_file

ID = "2026-11-22T20:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "realtime catalog notifications"

SQL_DIR = Path(__file__).parent / "sql_0002_realtime"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="bartender", description=DESCRIPTION)

    async def apply() -> None:
        for path in sorted(SQL_DIR.glob("*.sql")):
            await run_sql_file(path)

    manager.add_raw(apply)
    return manager
