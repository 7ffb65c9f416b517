"""Write a past of sales and deliveries into a bar's ledger (the demo's 180 days, test fixtures).

The stock functions stamp every movement with the commit time, so a past cannot go through
them. This writes the same rows they would have written, consistently:
- one `seq` per transaction, gapless and in time order, continuing the bar's seq;
- every movement's `stock_after` is the running stock, never negative, and each product's
  final stock equals the sum of its deltas;
- sales carry gapless receipt numbers, totals, their business day, and an `operations` row
  holding the response a void reads, so a backfilled sale can be voided like any other.
Call it on a bar whose ledger is empty or older than the backfilled days, inside a transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from dataclasses import dataclass

import asyncpg
import msgspec
import numpy as np

LOCK_BAR = "SELECT seq, sale_number, timezone, day_starts_at FROM bars WHERE id = $1 FOR UPDATE"
LOCK_PRODUCTS = """
SELECT id, price, stock FROM products WHERE bar_id = $1 AND id = ANY($2::uuid[])
ORDER BY id FOR NO KEY UPDATE
"""
SET_BAR_COUNTERS = "UPDATE bars SET seq = $2, sale_number = $3 WHERE id = $1"
# the products take the stock their new movements add up to (the ledger is the truth)
APPLY_LEDGER = """
UPDATE products p SET stock = p.stock + d.delta
FROM (SELECT product_id, sum(delta)::int AS delta FROM movements
      WHERE bar_id = $1 AND seq > $2 GROUP BY product_id) d
WHERE p.bar_id = $1 AND p.id = d.product_id
"""

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
    bar = await conn.fetchrow(LOCK_BAR, bar_id)
    tz = zoneinfo.ZoneInfo(bar["timezone"])
    starts: dt.time = bar["day_starts_at"]
    rows = await conn.fetch(LOCK_PRODUCTS, bar_id, [p.product_id for p in products])
    price = {r["id"]: int(r["price"]) for r in rows}
    stock = {r["id"]: int(r["stock"]) for r in rows}
    first_seq = seq = int(bar["seq"])
    number = int(bar["sale_number"])
    movements, sales, lines, deliveries, delivery_lines, operations = [], [], [], [], [], []

    def local(day: dt.date, hours: float) -> dt.datetime:
        """A moment `hours` after midnight of `day` (>= 24 is after midnight), in UTC."""
        base = dt.datetime.combine(day, dt.time(0), tzinfo=tz) + dt.timedelta(hours=hours)
        return base.astimezone(dt.UTC)

    for i, day in enumerate(dates):
        arriving = [(p.product_id, int(p.arrivals[i])) for p in products if p.arrivals[i] > 0]
        if arriving:
            seq += 1
            at = local(day, max(DELIVERY_HOUR, starts.hour + 1))
            delivery_id = uuid.uuid4()
            deliveries.append((bar_id, delivery_id, seq, supplier, None, actor_id, at))
            items = []
            for product_id, qty in sorted(arriving):
                stock[product_id] += qty
                movements.append(
                    (
                        bar_id,
                        seq,
                        product_id,
                        qty,
                        stock[product_id],
                        "delivery",
                        delivery_id,
                        actor_id,
                        at,
                    )
                )
                delivery_lines.append((bar_id, delivery_id, product_id, qty))
                items.append({"product_id": str(product_id), "qty": qty})
            operations.append((bar_id, delivery_id, "delivery", "backfill", None, at))
        selling = [(p.product_id, int(p.sales[i])) for p in products if p.sales[i] > 0]
        receipts = _receipts(selling, rng)
        hours = np.sort(
            rng.choice(SALE_HOURS, size=len(receipts), p=SALE_HOUR_WEIGHTS)
            + rng.random(len(receipts))
        )
        for receipt, hour in zip(receipts, hours, strict=True):
            seq += 1
            number += 1
            at = local(day, float(hour))
            sale_id = uuid.uuid4()
            total, items, stock_out = 0, [], []
            for product_id, qty in sorted(receipt):
                if qty > stock[product_id]:
                    raise ValueError(
                        f"{day}: selling {qty} of {product_id} with {stock[product_id]} in stock"
                    )
                stock[product_id] -= qty
                line_total = qty * price[product_id]
                total += line_total
                movements.append(
                    (
                        bar_id,
                        seq,
                        product_id,
                        -qty,
                        stock[product_id],
                        "sale",
                        sale_id,
                        actor_id,
                        at,
                    )
                )
                lines.append((bar_id, sale_id, product_id, qty, price[product_id], line_total))
                items.append(
                    {
                        "product_id": str(product_id),
                        "qty": qty,
                        "unit_price": price[product_id],
                        "line_total": line_total,
                    }
                )
                stock_out.append({"product_id": str(product_id), "stock": stock[product_id]})
            sales.append((bar_id, sale_id, number, seq, total, actor_id, None, at, day))
            response = {
                "id": str(sale_id),
                "bar_id": str(bar_id),
                "seq": seq,
                "number": number,
                "total": total,
                "created_at": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "occurred_at": None,
                "business_date": day.isoformat(),
                "seller_id": str(actor_id),
                "items": items,
                "stock": stock_out,
            }
            operations.append(
                (bar_id, sale_id, "sale", "backfill", msgspec.json.encode(response).decode(), at)
            )

    await conn.copy_records_to_table(
        "operations",
        records=operations,
        columns=["bar_id", "id", "kind", "request_hash", "response", "created_at"],
    )
    await conn.copy_records_to_table(
        "deliveries",
        records=deliveries,
        columns=["bar_id", "id", "seq", "supplier", "reference", "actor_id", "created_at"],
    )
    await conn.copy_records_to_table(
        "delivery_lines",
        records=delivery_lines,
        columns=["bar_id", "delivery_id", "product_id", "qty"],
    )
    await conn.copy_records_to_table(
        "sales",
        records=sales,
        columns=[
            "bar_id",
            "id",
            "number",
            "seq",
            "total",
            "seller_id",
            "occurred_at",
            "created_at",
            "business_date",
        ],
    )
    await conn.copy_records_to_table(
        "sale_lines",
        records=lines,
        columns=["bar_id", "sale_id", "product_id", "qty", "unit_price", "line_total"],
    )
    await conn.copy_records_to_table(
        "movements",
        records=movements,
        columns=[
            "bar_id",
            "seq",
            "product_id",
            "delta",
            "stock_after",
            "kind",
            "ref_id",
            "actor_id",
            "at",
        ],
    )
    await conn.execute(SET_BAR_COUNTERS, bar_id, seq, number)
    await conn.execute(APPLY_LEDGER, bar_id, first_seq)
