"""Low-stock alerts: alerts feed, Web Push subscriptions, webhooks, the delivery outbox, and
the threshold-crossing hook in bt_after_stock_change."""

from pathlib import Path

from bartender.db.migrate import sql_folder_migration

ID = "2026-11-22T20:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "alerts, push subscriptions, webhooks and outbox"

forwards = sql_folder_migration(ID, DESCRIPTION, Path(__file__).parent / "sql_0003_alerts")
