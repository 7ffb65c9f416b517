"""Core schema and the stock functions (sell, deliver, void, count)."""

from pathlib import Path

from bartender.db.migrate import sql_folder_migration

ID = "2026-11-22T19:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "core schema and stock functions"

forwards = sql_folder_migration(ID, DESCRIPTION, Path(__file__).parent / "sql_0001_core")
