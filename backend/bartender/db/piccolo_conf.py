"""Piccolo configuration used only by the migration runner (see migrate.py).

The DSN comes from BARTENDER_MIGRATE_DSN, set by `migrate()` before piccolo imports this.
"""

import os

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

DB = PostgresEngine(config={"dsn": os.environ["BARTENDER_MIGRATE_DSN"]})

APP_REGISTRY = AppRegistry(apps=["bartender.db.piccolo_app"])
