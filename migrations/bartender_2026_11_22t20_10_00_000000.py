"""Realtime: per-bar catalog version and the NOTIFY that carries catalog changes to sockets."""

from pathlib import Path

from bartender.db.migrate import sql_folder_migration

ID = "2026-11-22T20:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "realtime catalog notifications"

forwards = sql_folder_migration(ID, DESCRIPTION, Path(__file__).parent / "sql_0002_realtime")
