"""Demand history from the ledger: units sold per product per business day.

- Sales are the ledger's `sale` movements, dated by the sale's business day (an offline sale
  counts on the day it happened); voided sales are left out entirely (their `void` restock too).
- Days without a sale are zeros, from the product's first stock movement (or the start of the
  window) to yesterday; today is still open and is not history.
- Censored days: the product could not be sold, so the day's sales understate demand. A day is
  censored when a movement that day left the product at 0, or it opened at 0 and nothing moved
  (no delivery, no sale). Models treat them as missing.
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
    SELECT m.product_id, -sum(m.delta) AS sold
    FROM sales s JOIN movements m ON m.bar_id = s.bar_id AND m.seq = s.seq AND m.kind = 'sale'
    WHERE s.bar_id = $1 AND s.business_date = $2 AND s.voided_at IS NULL
    GROUP BY m.product_id
) t ON t.product_id = p.id
WHERE p.bar_id = $1 AND p.active
ORDER BY p.name, p.id
"""

SOLD_PER_DAY = """
SELECT m.product_id, s.business_date AS day, -sum(m.delta)::int AS sold
FROM sales s JOIN movements m ON m.bar_id = s.bar_id AND m.seq = s.seq AND m.kind = 'sale'
WHERE s.bar_id = $1 AND s.voided_at IS NULL AND s.business_date >= $2 AND s.business_date < $3
GROUP BY 1, 2
"""

# per product and business day: the lowest stock any movement left, and the closing stock
STOCK_PER_DAY = """
SELECT m.product_id, bt_business_date(m.at, b.timezone, b.day_starts_at) AS day,
       min(m.stock_after) AS low,
       (array_agg(m.stock_after ORDER BY m.seq DESC))[1] AS closing
FROM movements m JOIN bars b ON b.id = m.bar_id
WHERE m.bar_id = $1 AND m.at >= ($2::date + b.day_starts_at) AT TIME ZONE b.timezone
GROUP BY 1, 2
"""

STOCK_BEFORE = """
SELECT DISTINCT ON (m.product_id) m.product_id, m.stock_after
FROM movements m JOIN bars b ON b.id = m.bar_id
WHERE m.bar_id = $1 AND m.at < ($2::date + b.day_starts_at) AT TIME ZONE b.timezone
ORDER BY m.product_id, m.seq DESC
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
    return BarNow(row["today"], row["timezone"], row["day_starts_at"], row["lead_time_days"],
                  row["service_level"], row["seq"])


async def active_products(conn: asyncpg.Connection, bar_id: uuid.UUID,
                          today: dt.date) -> list[ProductNow]:
    rows = await conn.fetch(ACTIVE_PRODUCTS, bar_id, today)
    return [ProductNow(r["id"], r["name"], r["stock"], r["par_level"], r["sold_today"])
            for r in rows]


async def history_changed(conn: asyncpg.Connection, bar_id: uuid.UUID, since_seq: int,
                          today: dt.date) -> bool:
    return bool(await conn.fetchval(HISTORY_CHANGED, bar_id, since_seq, today))


async def load_series(conn: asyncpg.Connection, bar_id: uuid.UUID, today: dt.date,
                      product_ids: list[uuid.UUID], days: int = HISTORY_DAYS
                      ) -> dict[uuid.UUID, Series]:
    """Daily history of these products up to yesterday (run in one snapshot with bar_now)."""
    window_start = today - dt.timedelta(days=days)
    sold_rows = await conn.fetch(SOLD_PER_DAY, bar_id, window_start, today)
    stock_rows = await conn.fetch(STOCK_PER_DAY, bar_id, window_start)
    before = {r["product_id"]: r["stock_after"]
              for r in await conn.fetch(STOCK_BEFORE, bar_id, window_start)}
    return build_series(today, window_start, product_ids, before,
                        [(r["product_id"], r["day"], r["sold"]) for r in sold_rows],
                        [(r["product_id"], r["day"], r["low"], r["closing"]) for r in stock_rows])


def build_series(today: dt.date, window_start: dt.date, product_ids: list[uuid.UUID],
                 stock_before: dict[uuid.UUID, int],
                 sold: list[tuple[uuid.UUID, dt.date, int]],
                 stock: list[tuple[uuid.UUID, dt.date, int, int]]) -> dict[uuid.UUID, Series]:
    """Zero-filled daily series with censored flags (pure: the rules in the module docstring)."""
    wanted = set(product_ids)
    sold_on: dict[uuid.UUID, dict[dt.date, int]] = {p: {} for p in wanted}
    for product_id, day, qty in sold:
        if product_id in wanted:
            sold_on[product_id][day] = qty
    stock_on: dict[uuid.UUID, dict[dt.date, tuple[int, int]]] = {p: {} for p in wanted}
    for product_id, day, low, closing in stock:
        if product_id in wanted:
            stock_on[product_id][day] = (low, closing)
    out: dict[uuid.UUID, Series] = {}
    for product_id in product_ids:
        days_with_stock = stock_on[product_id]
        if product_id in stock_before:
            start = window_start
        else:
            # the first day it moved or sold (an offline sale may predate its movement)
            start = min([d for d in (*days_with_stock, *sold_on[product_id]) if d < today],
                        default=today)
        n = (today - start).days
        values = np.zeros(n, dtype=np.int64)
        censored = np.zeros(n, dtype=bool)
        opening = stock_before.get(product_id, 0)
        for i in range(n):
            day = start + dt.timedelta(days=i)
            values[i] = sold_on[product_id].get(day, 0)
            moved = days_with_stock.get(day)
            if moved is None:  # nothing moved: empty all day, unless sales say otherwise
                censored[i] = opening == 0 and values[i] == 0
            else:
                low, closing = moved
                censored[i] = low == 0
                opening = closing
        out[product_id] = Series(start, values, censored)
    return out
