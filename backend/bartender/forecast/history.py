"""Demand history from the ledger: units sold per product per business day.

- Sales are the ledger's `sale` movements, dated by the sale's business day (an offline sale
  counts on the day it happened); voided sales are left out entirely (their `void` restock too).
- Days without a sale are zeros, from the product's first stock movement (or the start of the
  window) to yesterday; today is still open and is not history.
- Censored days: the product could not be sold, so the day's sales understate demand. A day is
  censored when a movement that day left the product at 0, or the shelf was still empty from
  an earlier day (no restock yet). Models treat them as missing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg
import numpy as np

HISTORY_DAYS = 182  # 26 weeks: enough for weekly seasonality, recent enough to matter

BAR_NOW = """
SELECT bt_business_date(now(), timezone, day_starts_at) AS today, timezone,
       day_starts_at, lead_time_days, service_level::float8 AS service_level, seq
FROM bars WHERE id = $1
"""

ACTIVE_PRODUCTS = """
SELECT p.id, p.name, p.stock, p.par_level, COALESCE(t.sold, 0)::int AS sold_today
FROM products p
LEFT JOIN (
    SELECT l.product_id, sum(l.qty) AS sold
    FROM sales s JOIN sale_lines l ON l.bar_id = s.bar_id AND l.sale_id = s.id
    WHERE s.bar_id = $1 AND s.business_date = $2 AND s.voided_at IS NULL
    GROUP BY l.product_id
) t ON t.product_id = p.id
WHERE p.bar_id = $1 AND p.active
ORDER BY p.name, p.id
"""

# Units sold are the sale lines: a product made of stock items (a glass, a cocktail) changes
# the availability of others that share its items, so the ledger's deltas are not its sales.
SOLD_PER_DAY = """
SELECT l.product_id, s.business_date AS day, sum(l.qty)::int AS sold
FROM sales s JOIN sale_lines l ON l.bar_id = s.bar_id AND l.sale_id = s.id
WHERE s.bar_id = $1 AND s.voided_at IS NULL AND s.business_date >= $2 AND s.business_date < $3
GROUP BY 1, 2
"""

# the business day each product first moved (its history starts there, or at the window)
FIRST_MOVED = """
SELECT p.id AS product_id, bt_business_date(f.at, b.timezone, b.day_starts_at) AS day
FROM products p JOIN bars b ON b.id = p.bar_id
CROSS JOIN LATERAL (
    SELECT m.at FROM movements m WHERE m.bar_id = p.bar_id AND m.product_id = p.id
    ORDER BY m.seq LIMIT 1) f
WHERE p.bar_id = $1 AND p.id = ANY($2::uuid[])
"""

# Empty shelves: every movement that left a product at 0, with the business day of the
# product's next movement (the restock; null while it is still empty). Few rows, found with
# the (bar, product, seq) index: the fit never scans the whole ledger for them.
EMPTY_SPELLS = """
SELECT m.product_id, bt_business_date(m.at, b.timezone, b.day_starts_at) AS emptied,
       bt_business_date(n.at, b.timezone, b.day_starts_at) AS restocked
FROM movements m JOIN bars b ON b.id = m.bar_id
LEFT JOIN LATERAL (
    SELECT x.at FROM movements x
    WHERE x.bar_id = m.bar_id AND x.product_id = m.product_id AND x.seq > m.seq
    ORDER BY x.seq LIMIT 1) n ON true
WHERE m.bar_id = $1 AND m.stock_after = 0 AND m.product_id = ANY($2::uuid[])
"""

# A sale or void committed after the fit that belongs to an earlier business day changes the
# history (an offline sale replayed late, a correction): worth refitting for.
HISTORY_CHANGED = """
SELECT EXISTS (
    SELECT 1 FROM movements m
    JOIN sales s ON s.bar_id = m.bar_id AND s.id = m.ref_id
    WHERE m.bar_id = $1 AND m.seq > $2 AND m.kind IN ('sale', 'void') AND s.business_date < $3
)
"""


@dataclass(frozen=True)
class BarNow:
    today: dt.date
    timezone: str
    day_starts_at: dt.time
    lead_time_days: int
    service_level: float
    seq: int


@dataclass(frozen=True)
class ProductNow:
    id: uuid.UUID
    name: str
    stock: int
    par_level: int
    sold_today: int


@dataclass(frozen=True)
class Series:
    """One product's history: day i is `start + i`, the last day is yesterday."""

    start: dt.date
    sold: np.ndarray
    censored: np.ndarray


async def bar_now(conn: asyncpg.Connection, bar_id: uuid.UUID) -> BarNow:
    row = await conn.fetchrow(BAR_NOW, bar_id)
    return BarNow(
        row["today"],
        row["timezone"],
        row["day_starts_at"],
        row["lead_time_days"],
        row["service_level"],
        row["seq"],
    )


async def active_products(
    conn: asyncpg.Connection, bar_id: uuid.UUID, today: dt.date
) -> list[ProductNow]:
    rows = await conn.fetch(ACTIVE_PRODUCTS, bar_id, today)
    return [
        ProductNow(r["id"], r["name"], r["stock"], r["par_level"], r["sold_today"]) for r in rows
    ]


async def history_changed(
    conn: asyncpg.Connection, bar_id: uuid.UUID, since_seq: int, today: dt.date
) -> bool:
    return bool(await conn.fetchval(HISTORY_CHANGED, bar_id, since_seq, today))


async def load_series(
    conn: asyncpg.Connection,
    bar_id: uuid.UUID,
    today: dt.date,
    product_ids: list[uuid.UUID],
    days: int = HISTORY_DAYS,
) -> dict[uuid.UUID, Series]:
    """Daily history of these products up to yesterday (run in one snapshot with bar_now)."""
    window_start = today - dt.timedelta(days=days)
    sold_rows = await conn.fetch(SOLD_PER_DAY, bar_id, window_start, today)
    first = {r["product_id"]: r["day"] for r in await conn.fetch(FIRST_MOVED, bar_id, product_ids)}
    spells = [
        (r["product_id"], r["emptied"], r["restocked"])
        for r in await conn.fetch(EMPTY_SPELLS, bar_id, product_ids)
    ]
    return build_series(
        today,
        window_start,
        product_ids,
        first,
        [(r["product_id"], r["day"], r["sold"]) for r in sold_rows],
        spells,
    )


def build_series(
    today: dt.date,
    window_start: dt.date,
    product_ids: list[uuid.UUID],
    first_moved: dict[uuid.UUID, dt.date],
    sold: list[tuple[uuid.UUID, dt.date, int]],
    empty_spells: list[tuple[uuid.UUID, dt.date, dt.date | None]],
) -> dict[uuid.UUID, Series]:
    """Zero-filled daily series with censored flags (pure: the rules in the module docstring).

    An empty spell censors the day the shelf emptied and every day after it until the day of
    the next movement (a restock: that day had stock again).
    """
    sold_on: dict[uuid.UUID, dict[dt.date, int]] = {p: {} for p in product_ids}
    for product_id, day, qty in sold:
        if product_id in sold_on:
            sold_on[product_id][day] = qty
    out: dict[uuid.UUID, Series] = {}
    for product_id in product_ids:
        # from the first day it moved or sold (an offline sale may predate its movement)
        candidates = [d for d in (first_moved.get(product_id), *sold_on[product_id]) if d]
        start = max(window_start, min(candidates, default=today))
        start = min(start, today)
        n = (today - start).days
        values = np.zeros(n, dtype=np.int64)
        for day, qty in sold_on[product_id].items():
            if start <= day < today:
                values[(day - start).days] = qty
        censored = np.zeros(n, dtype=bool)
        for spell_product, emptied, restocked in empty_spells:
            if spell_product != product_id:
                continue
            first_day = max((emptied - start).days, 0)
            last_day = (
                (max(emptied + dt.timedelta(days=1), restocked) - start).days if restocked else n
            )
            censored[first_day : max(first_day, min(last_day, n))] = True
        out[product_id] = Series(start, values, censored)
    return out
