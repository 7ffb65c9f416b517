"""The migration runner: fresh databases, no-op restarts, fixing a function by editing its one
file, and a database built by the former piccolo runner upgraded in place.

`fixtures/legacy_2026_11_db.sql` is a `pg_dump --inserts` of a bar migrated by the piccolo
runner of 2026-11 (three products, a delivery, two sales, a void, a count, an alert)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

from bartender.db.migrate import migrate, migrations_dir

LEGACY_DUMP = Path(__file__).parent / "fixtures" / "legacy_2026_11_db.sql"
LEGACY_BAR = "00000000-0000-4000-8000-0000000000b1"


def database_url_for(admin_url: str, name: str) -> str:
    return urlsplit(admin_url)._replace(path=f"/{name}").geturl()


async def _empty_database(pg_admin_url: str, name: str) -> str:
    conn = await asyncpg.connect(pg_admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return database_url_for(pg_admin_url, name)


async def legacy_database(pg_admin_url: str, name: str) -> str:
    """A database exactly as the former runner left it (psql meta-commands stripped)."""
    url = await _empty_database(pg_admin_url, name)
    sql = "\n".join(
        line for line in LEGACY_DUMP.read_text().splitlines() if not line.startswith("\\")
    )
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
    return url


async def test_fresh_then_noop(pg_admin_url: str) -> None:
    url = await _empty_database(pg_admin_url, "bt_mig_fresh")
    first = await migrate(url)
    assert first[-1] == "functions" and first[0] == "0001_core"
    assert await migrate(url) == []  # a restart with nothing new re-applies nothing


async def test_editing_a_function_file_reapplies_it(pg_admin_url: str, tmp_path: Path) -> None:
    root = tmp_path / "migrations"
    shutil.copytree(migrations_dir(), root)
    url = await _empty_database(pg_admin_url, "bt_mig_edit")
    await migrate(url, root)
    common = root / "functions" / "10_stock_common.sql"
    common.write_text(
        common.read_text()
        + "\nCREATE OR REPLACE FUNCTION bt_probe() RETURNS int LANGUAGE sql AS 'SELECT 42';\n"
    )
    assert await migrate(url, root) == ["functions"]
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT bt_probe()") == 42
    finally:
        await conn.close()


async def test_piccolo_database_upgrades_in_place(pg_admin_url: str) -> None:
    url = await legacy_database(pg_admin_url, "bt_mig_legacy")
    conn = await asyncpg.connect(url)
    try:
        before_stock = await conn.fetch("SELECT id, stock FROM products ORDER BY id")
        before_ledger = await conn.fetch("SELECT * FROM movements ORDER BY seq, product_id")
        before_seq = await conn.fetchval("SELECT seq FROM bars WHERE id = $1", LEGACY_BAR)
        ran = await migrate(url)
        # the three piccolo folders are adopted, not re-run
        assert not {"0001_core", "0002_catalog", "0003_alerts"} & set(ran)
        assert "functions" in ran
        assert await conn.fetch("SELECT id, stock FROM products ORDER BY id") == before_stock
        assert await conn.fetch("SELECT * FROM movements ORDER BY seq, product_id") == before_ledger
        assert await conn.fetchval("SELECT seq FROM bars WHERE id = $1", LEGACY_BAR) == before_seq
        # issue 15: each product became its own stock item (same id, base unit "unit"), with
        # its stock, consumed one unit per sale, and its ledger copied in base units
        items = await conn.fetch(
            "SELECT id, stock, base_unit, low_threshold FROM stock_items ORDER BY id"
        )
        assert [(r["id"], r["stock"]) for r in items] == [
            (r["id"], r["stock"]) for r in before_stock
        ]
        assert {r["base_unit"] for r in items} == {"unit"}
        assert await conn.fetch(
            "SELECT product_id, stock_item_id, qty FROM product_components ORDER BY product_id"
        ) == [(r["id"], r["id"], 1) for r in before_stock]
        assert [
            tuple(r)
            for r in await conn.fetch(
                "SELECT seq, stock_item_id, delta, stock_after, kind, ref_id FROM item_movements "
                "ORDER BY seq, stock_item_id"
            )
        ] == [
            (r["seq"], r["product_id"], r["delta"], r["stock_after"], r["kind"], r["ref_id"])
            for r in before_ledger
        ]
        # and the upgraded database still sells through the re-applied functions
        product = before_stock[0]["id"]
        body = await conn.fetchval(
            "SELECT body FROM bt_sell($1, NULL, $2::jsonb)",
            LEGACY_BAR,
            f'{{"id": "00000000-0000-4000-8000-0000000003ff", '
            f'"items": [{{"product_id": "{product}", "qty": 1}}]}}',
        )
        assert f'"seq": {before_seq + 1}' in body
        assert await conn.fetchval("SELECT stock FROM stock_items WHERE id = $1", product) == (
            before_stock[0]["stock"] - 1
        )
        assert await migrate(url) == []
    finally:
        await conn.close()


async def test_concurrent_starts_serialise(pg_admin_url: str) -> None:
    url = await _empty_database(pg_admin_url, "bt_mig_twice")
    results = await asyncio.gather(migrate(url), migrate(url))
    # exactly one of the two starts did the work; the other found it done
    assert sorted(len(r) for r in results)[0] == 0
