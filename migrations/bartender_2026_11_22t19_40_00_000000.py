"""Core schema and the stock functions (sell, deliver, void, count)."""

from pathlib import Path

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from bartender.db.migrate import run_sql_file

ID = "2026-11-22T19:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "core schema and stock functions"

SQL_DIR = Path(__file__).parent / "sql_0001_core"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="bartender", description=DESCRIPTION)

    async def apply() -> None:
        for path in sorted(SQL_DIR.glob("*.sql")):
            await run_sql_file(path)

    manager.add_raw(apply)
    return manager
