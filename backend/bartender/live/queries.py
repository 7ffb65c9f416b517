"""The SQL that reads live stock: a bar's seq, the ledger by transaction, net changes and the
snapshot. Each shape is written once here; the feed, the replay and polling share them."""

from __future__ import annotations

import uuid
from typing import TypeAlias

import asyncpg

BAR_SEQ = "SELECT seq FROM bars WHERE id = $1"
# One row per stock transaction of a bar in a seq range, with its changes. A transaction that
# moved only stock items no product's availability follows (a delivery of limes nobody sells
# yet) has item_movements rows and no `movements` row: it still has its seq, with no changes.
# `items` (additive, issue 15): the stock items' levels after it, as in the NOTIFY payload.
LEDGER_RANGE = """
SELECT seq, min(kind) AS cause,
       COALESCE(jsonb_agg(jsonb_build_object('product_id', product_id, 'stock', stock_after)
                          ORDER BY product_id) FILTER (WHERE product_id IS NOT NULL),
                '[]')::text AS changes,
       COALESCE(jsonb_agg(jsonb_build_object('stock_item_id', item_id, 'stock', stock_after)
                          ORDER BY item_id) FILTER (WHERE item_id IS NOT NULL),
                '[]')::text AS items
FROM (SELECT seq, kind, product_id, NULL::uuid AS item_id, stock_after FROM movements
      WHERE bar_id = $1 AND seq > $2 AND seq <= $3
      UNION ALL
      SELECT seq, kind, NULL, stock_item_id, stock_after FROM item_movements
      WHERE bar_id = $1 AND seq > $2 AND seq <= $3) AS m
GROUP BY seq ORDER BY seq
"""
# seq and stock read in one statement: one snapshot, so they agree.
SNAPSHOT = """
SELECT (SELECT seq FROM bars WHERE id = $1) AS seq,
       COALESCE((SELECT jsonb_agg(jsonb_build_object('product_id', id, 'stock', stock) ORDER BY id)
                 FROM products WHERE bar_id = $1 AND active), '[]')::text AS stock
"""
NET_CHANGES_SINCE = """
SELECT COALESCE(jsonb_agg(jsonb_build_object('product_id', product_id, 'stock', stock_after)
                          ORDER BY product_id), '[]')::text
FROM (SELECT DISTINCT ON (product_id) product_id, stock_after
      FROM movements WHERE bar_id = $1 AND seq > $2 AND seq <= $3
      ORDER BY product_id, seq DESC) AS latest
"""
NET_ITEMS_SINCE = """
SELECT COALESCE(jsonb_agg(jsonb_build_object('stock_item_id', stock_item_id, 'stock', stock_after)
                          ORDER BY stock_item_id), '[]')::text
FROM (SELECT DISTINCT ON (stock_item_id) stock_item_id, stock_after
      FROM item_movements WHERE bar_id = $1 AND seq > $2 AND seq <= $3
      ORDER BY stock_item_id, seq DESC) AS latest
"""

Executor: TypeAlias = "asyncpg.Pool | asyncpg.Connection"


async def bar_seq(db: Executor, bar_id: uuid.UUID) -> int | None:
    """The bar's committed seq (None: no such bar)."""
    seq: int | None = await db.fetchval(BAR_SEQ, bar_id)
    return seq


async def ledger_range(
    db: Executor, bar_id: uuid.UUID, after: int, upto: int
) -> list[asyncpg.Record]:
    """Transactions (after, upto] of the bar: rows of (seq, cause, changes and items JSON text)."""
    rows: list[asyncpg.Record] = await db.fetch(LEDGER_RANGE, bar_id, after, upto)
    return rows


async def snapshot(db: Executor, bar_id: uuid.UUID) -> tuple[int, bytes]:
    """(seq, `[{"product_id","stock"}]` JSON of every active product), read together."""
    row = await db.fetchrow(SNAPSHOT, bar_id)
    return row["seq"], row["stock"].encode()


async def net_changes(db: Executor, bar_id: uuid.UUID, since: int, upto: int) -> bytes:
    """Latest stock per product changed in (since, upto], as JSON."""
    return (await db.fetchval(NET_CHANGES_SINCE, bar_id, since, upto)).encode()


async def net_items(db: Executor, bar_id: uuid.UUID, since: int, upto: int) -> bytes:
    """Latest level per stock item moved in (since, upto], as JSON."""
    return (await db.fetchval(NET_ITEMS_SINCE, bar_id, since, upto)).encode()
