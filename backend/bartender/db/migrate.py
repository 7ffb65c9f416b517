"""Bring a database to this version's schema, once, whichever instance starts first.

`migrations/` holds two kinds of SQL (docs/architecture.md, "Migrations"):

- `tables/NNNN_name.sql`: append-only numbered migrations (tables, columns, indexes, data
  moves). Each runs once, in its own transaction, and is recorded in `schema_migrations`.
  Never edit a released one: add the next number.
- `functions/NN_name.sql`: functions, views and triggers, written with CREATE OR REPLACE and
  applied in file-name order, all in one transaction. Fixing a function is editing its one
  file. They are re-applied whenever their text (sha256 of every file) differs from what the
  database last applied, or after any table migration ran; an unchanged restart re-applies
  nothing, so N instances restarting do not take trigger locks on the hot tables.

A session advisory lock serialises concurrent starts. A database built by the earlier
piccolo-based runner (its `migration` table) is adopted in place: its three folders are
recorded as the first three table migrations, which they are.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import asyncpg

log = logging.getLogger("bartender.migrate")

_MIGRATION_LOCK = 7_211_000_001  # arbitrary advisory-lock key owned by BarTender

# the piccolo migration ids of the former runner -> the table migration each one became
_PICCOLO_IDS = {
    "2026-11-22T19:40:00:000000": "0001_core",
    "2026-11-22T20:10:00:000000": "0002_catalog",
    "2026-11-22T20:20:00:000000": "0003_alerts",
}

BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    name        text PRIMARY KEY,
    applied_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS schema_functions (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    sha256      text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)
"""
ADOPT_PICCOLO = """
INSERT INTO schema_migrations (name, applied_at)
SELECT m.new_name, p.ran_on
FROM migration p
JOIN unnest($1::text[], $2::text[]) AS m(piccolo_id, new_name) ON m.piccolo_id = p.name
WHERE p.app_name = 'bartender'
ON CONFLICT DO NOTHING
"""
RECORD_FUNCTIONS = """
INSERT INTO schema_functions (singleton, sha256) VALUES (true, $1)
ON CONFLICT (singleton) DO UPDATE SET sha256 = EXCLUDED.sha256, applied_at = now()
"""


def migrations_dir() -> Path:
    """`migrations/` of a source checkout, or the copy packaged into a wheel."""
    here = Path(__file__).resolve()
    checkout = here.parents[3] / "migrations"
    if checkout.is_dir():
        return checkout
    return here.parents[1] / "_migrations"


def table_migrations(root: Path) -> list[Path]:
    return sorted((root / "tables").glob("*.sql"))


def function_files(root: Path) -> list[Path]:
    return sorted((root / "functions").glob("*.sql"))


def functions_digest(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


async def _adopt_piccolo_history(conn: asyncpg.Connection) -> None:
    if await conn.fetchval("SELECT to_regclass('migration') IS NOT NULL"):
        await conn.execute(ADOPT_PICCOLO, list(_PICCOLO_IDS), list(_PICCOLO_IDS.values()))


async def migrate(dsn: str, root: Path | None = None) -> list[str]:
    """Apply pending table migrations, then the functions if they changed. Returns what ran."""
    root = root or migrations_dir()
    conn = await asyncpg.connect(dsn)
    ran: list[str] = []
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        await conn.execute(BOOKKEEPING)
        await _adopt_piccolo_history(conn)
        done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
        for path in table_migrations(root):
            if path.stem in done:
                continue
            async with conn.transaction():
                await conn.execute(path.read_text(encoding="utf-8"))
                await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", path.stem)
            log.info("applied table migration %s", path.stem)
            ran.append(path.stem)

        files = function_files(root)
        digest = functions_digest(files)
        applied = await conn.fetchval("SELECT sha256 FROM schema_functions")
        if ran or applied != digest:
            async with conn.transaction():
                for path in files:
                    await conn.execute(path.read_text(encoding="utf-8"))
                await conn.execute(RECORD_FUNCTIONS, digest)
            log.info("applied %d function files", len(files))
            ran.append("functions")
    finally:
        await conn.close()  # also releases the session advisory lock
    return ran
