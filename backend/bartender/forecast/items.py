"""Demand per stock item (issue 15): what the shelf's items were used for, from the item ledger.

An item's demand is the base units its sales consumed (`item_movements` of kind `sale`, dated
by the sale's business day; voided sales left out, their restock too): a whisky bottle's
demand in cl is the sum of its glasses and cocktails. Days without a sale are zeros and a
day the item ran out (or stayed out) is censored, exactly as for products (history.py).

An item that is one product's own item and nothing else consumes (every item of a bar that
never uses recipes) has the product's history to the unit: it reuses the product's fit, so
such a bar fits nothing twice. Suggested orders speak in packs: the largest pack that fits the
quantity, plus loose base units.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg

from bartender.forecast import history

# `as_product`: the item is an active product's own item, consumed by that product alone at 1
# per unit sold, so its demand is that product's sales.
ACTIVE_ITEMS = """
SELECT i.id, i.name, i.base_unit, i.stock, i.par_level,
       EXISTS (SELECT 1 FROM products p WHERE p.id = i.id AND p.active)
       AND NOT EXISTS (SELECT 1 FROM product_components c
                       WHERE c.stock_item_id = i.id AND (c.product_id <> i.id OR c.qty <> 1))
           AS as_product,
       COALESCE(t.used, 0)::int AS used_today,
       ARRAY(SELECT k.name FROM stock_item_packs k WHERE k.stock_item_id = i.id
             ORDER BY k.size DESC, k.name) AS pack_names,
       ARRAY(SELECT k.size FROM stock_item_packs k WHERE k.stock_item_id = i.id
             ORDER BY k.size DESC, k.name) AS pack_sizes
FROM stock_items i
LEFT JOIN (
    SELECT m.stock_item_id, -sum(m.delta) AS used
    FROM sales s JOIN item_movements m ON m.bar_id = s.bar_id AND m.ref_id = s.id
    WHERE s.bar_id = $1 AND s.business_date = $2 AND s.voided_at IS NULL AND m.kind = 'sale'
    GROUP BY 1
) t ON t.stock_item_id = i.id
WHERE i.bar_id = $1 AND i.active
  -- a container's empties are not bought or sold: nothing to forecast
  AND NOT EXISTS (SELECT 1 FROM containers c WHERE c.empties_item_id = i.id)
ORDER BY i.name, i.id
"""

USED_PER_DAY = """
SELECT m.stock_item_id, s.business_date AS day, (-sum(m.delta))::int AS used
FROM item_movements m JOIN sales s ON s.bar_id = m.bar_id AND s.id = m.ref_id
WHERE m.bar_id = $1 AND m.kind = 'sale' AND m.stock_item_id = ANY($4::uuid[])
  AND s.voided_at IS NULL AND s.business_date >= $2 AND s.business_date < $3
GROUP BY 1, 2
"""

FIRST_MOVED = """
SELECT i.id AS stock_item_id, bt_business_date(f.at, b.timezone, b.day_starts_at) AS day
FROM stock_items i JOIN bars b ON b.id = i.bar_id
CROSS JOIN LATERAL (
    SELECT m.at FROM item_movements m WHERE m.bar_id = i.bar_id AND m.stock_item_id = i.id
    ORDER BY m.seq LIMIT 1) f
WHERE i.bar_id = $1 AND i.id = ANY($2::uuid[])
"""

# the item ran out, and the business day of its next movement (null: still empty)
EMPTY_SPELLS = """
SELECT m.stock_item_id, bt_business_date(m.at, b.timezone, b.day_starts_at) AS emptied,
       bt_business_date(n.at, b.timezone, b.day_starts_at) AS restocked
FROM item_movements m JOIN bars b ON b.id = m.bar_id
LEFT JOIN LATERAL (
    SELECT x.at FROM item_movements x
    WHERE x.bar_id = m.bar_id AND x.stock_item_id = m.stock_item_id AND x.seq > m.seq
    ORDER BY x.seq LIMIT 1) n ON true
WHERE m.bar_id = $1 AND m.stock_after = 0 AND m.stock_item_id = ANY($2::uuid[])
"""


@dataclass(frozen=True)
class ItemNow:
    id: uuid.UUID
    name: str
    base_unit: str
    stock: int
    par_level: int
    as_product: bool
    used_today: int
    packs: list[tuple[str, int]]  # (name, size), largest first


@dataclass(frozen=True)
class PackSuggestion:
    pack: str
    size: int
    packs: int
    units: int


async def active_items(
    conn: asyncpg.Connection, bar_id: uuid.UUID, today: dt.date
) -> list[ItemNow]:
    rows = await conn.fetch(ACTIVE_ITEMS, bar_id, today)
    return [
        ItemNow(
            r["id"],
            r["name"],
            r["base_unit"],
            r["stock"],
            r["par_level"],
            r["as_product"],
            r["used_today"],
            list(zip(r["pack_names"], r["pack_sizes"], strict=True)),
        )
        for r in rows
    ]


async def load_series(
    conn: asyncpg.Connection,
    bar_id: uuid.UUID,
    today: dt.date,
    item_ids: list[uuid.UUID],
    days: int = history.HISTORY_DAYS,
) -> dict[uuid.UUID, history.Series]:
    """Daily consumption of these items up to yesterday (in the snapshot of the product fit)."""
    if not item_ids:
        return {}
    window_start = today - dt.timedelta(days=days)
    used = await conn.fetch(USED_PER_DAY, bar_id, window_start, today, item_ids)
    first = {r["stock_item_id"]: r["day"] for r in await conn.fetch(FIRST_MOVED, bar_id, item_ids)}
    spells = [
        (r["stock_item_id"], r["emptied"], r["restocked"])
        for r in await conn.fetch(EMPTY_SPELLS, bar_id, item_ids)
    ]
    return history.build_series(
        today,
        window_start,
        item_ids,
        first,
        [(r["stock_item_id"], r["day"], r["used"]) for r in used],
        spells,
    )


def in_packs(qty: int, packs: list[tuple[str, int]]) -> PackSuggestion | None:
    """`qty` base units as the largest pack that fits plus loose units ("2 casiers + 22").

    None when no pack of more than one unit fits (order in base units).
    """
    for name, size in sorted(packs, key=lambda p: (-p[1], p[0])):
        if 1 < size <= qty:
            return PackSuggestion(name, size, qty // size, qty % size)
    return None
