"""Write a past of sales and deliveries into a bar (the demo's 180 days, test fixtures).

Every operation goes through the stock functions the API calls (bt_sell, bt_deliver) with the
time override `bt_stock_at` (migrations/functions/39_stock_backfill.sql), so a backfilled
past is exactly what the API would have written: one gapless `seq` per operation in time
order, receipt numbers, the ledgers in base units, business days, replayable responses, and
sales that can be voided like any other. Sales beyond the stock on hand are refused
(ValueError), as the API would. Call it on a bar whose ledger is empty or older than the
backfilled days, inside a transaction (one round trip per batch, not per operation).
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from dataclasses import dataclass

import asyncpg
import msgspec
import numpy as np

BAR = "SELECT timezone, day_starts_at FROM bars WHERE id = $1"
STOCK_AT = "SELECT bt_stock_at($1, $2, $3, $4, $5::jsonb)"
INSUFFICIENT_STOCK = "BTI01"

DELIVERY_HOUR = 10  # trucks come in the morning, before the evening rush
# sales between 17:00 and 02:00 local, denser late in the evening
SALE_HOURS = np.array([17, 18, 19, 20, 21, 22, 23, 24, 25])
SALE_HOUR_WEIGHTS = np.array([0.05, 0.08, 0.12, 0.15, 0.17, 0.16, 0.13, 0.09, 0.05])


@dataclass(frozen=True)
class ProductPast:
    """Per business day (aligned with the dates given to `backfill`): units in, units sold."""

    product_id: uuid.UUID
    arrivals: np.ndarray
    sales: np.ndarray


def _receipts(
    day_sales: list[tuple[uuid.UUID, int]], rng: np.random.Generator
) -> list[list[tuple[uuid.UUID, int]]]:
    """Split a day's units into receipts of 1..3 lines of 1..4 units (distinct products)."""
    chunks: list[tuple[uuid.UUID, int]] = []
    for product_id, qty in day_sales:
        while qty > 0:
            take = min(qty, int(rng.integers(1, 5)))
            chunks.append((product_id, take))
            qty -= take
    order = rng.permutation(len(chunks))
    receipts: list[list[tuple[uuid.UUID, int]]] = []
    current: dict[uuid.UUID, int] = {}
    size = int(rng.integers(1, 4))
    for index in order:
        product_id, qty = chunks[index]
        current[product_id] = current.get(product_id, 0) + qty
        if len(current) >= size:
            receipts.append(list(current.items()))
            current, size = {}, int(rng.integers(1, 4))
    if current:
        receipts.append(list(current.items()))
    return receipts


async def backfill(
    conn: asyncpg.Connection,
    bar_id: uuid.UUID,
    actor_id: uuid.UUID,
    dates: list[dt.date],
    products: list[ProductPast],
    seed: int = 0,
    supplier: str = "Fournisseur",
) -> None:
    """Write deliveries and sales of `products` over business days `dates` (see module doc).

    Per day: that day's arrivals as one morning delivery, then the day's sales as receipts in
    the evening. Sales beyond the stock on hand are refused (ValueError), as the API would.
    """
    rng = np.random.default_rng(seed)
    bar = await conn.fetchrow(BAR, bar_id)
    tz = zoneinfo.ZoneInfo(bar["timezone"])
    starts: dt.time = bar["day_starts_at"]
    operations: list[tuple[dt.datetime, str, uuid.UUID, uuid.UUID, str]] = []

    def local(day: dt.date, hours: float) -> dt.datetime:
        """A moment `hours` after midnight of `day` (>= 24 is after midnight), in UTC."""
        base = dt.datetime.combine(day, dt.time(0), tzinfo=tz) + dt.timedelta(hours=hours)
        return base.astimezone(dt.UTC)

    def add(at: dt.datetime, kind: str, request: dict) -> None:
        operations.append((at, kind, bar_id, actor_id, msgspec.json.encode(request).decode()))

    for i, day in enumerate(dates):
        arriving = [(p.product_id, int(p.arrivals[i])) for p in products if p.arrivals[i] > 0]
        if arriving:
            add(
                local(day, max(DELIVERY_HOUR, starts.hour + 1)),
                "delivery",
                {
                    "id": str(uuid.uuid4()),
                    "items": [{"product_id": str(p), "qty": q} for p, q in sorted(arriving)],
                    "supplier": supplier,
                },
            )
        selling = [(p.product_id, int(p.sales[i])) for p in products if p.sales[i] > 0]
        receipts = _receipts(selling, rng)
        hours = np.sort(
            rng.choice(SALE_HOURS, size=len(receipts), p=SALE_HOUR_WEIGHTS)
            + rng.random(len(receipts))
        )
        for receipt, hour in zip(receipts, hours, strict=True):
            add(
                local(day, float(hour)),
                "sale",
                {
                    "id": str(uuid.uuid4()),
                    "items": [{"product_id": str(p), "qty": q} for p, q in sorted(receipt)],
                },
            )
    try:
        await conn.executemany(STOCK_AT, operations)
    except asyncpg.PostgresError as exc:
        if exc.sqlstate == INSUFFICIENT_STOCK:
            raise ValueError(f"backfill sells beyond the stock on hand: {exc}") from None
        raise
