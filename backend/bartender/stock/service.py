"""Products, stock operations, the ledger, sales history and today's stats.

Stock operations call their plpgsql function and pass its JSON body through untouched:
the function locked, checked, wrote and notified; Python never computes stock.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid

import asyncpg
import msgspec

from bartender.accounts.schemas import given
from bartender.bars.access import Member
from bartender.errors import InvalidRequest, NotFound
from bartender.stock.items import check_lines
from bartender.stock.schemas import (
    CountIn,
    DeliveryIn,
    ProductIn,
    ProductOut,
    ProductPatch,
    SaleIn,
)

SELL = "SELECT replayed, body::text FROM bt_sell($1, $2, $3::jsonb)"
DELIVER = "SELECT replayed, body::text FROM bt_deliver($1, $2, $3::jsonb)"
COUNT = "SELECT replayed, body::text FROM bt_count($1, $2, $3::jsonb)"
VOID = "SELECT replayed, body::text FROM bt_void($1, $2, $3, $4)"

INSERT_PRODUCT = """
INSERT INTO products (bar_id, name, category, price, low_threshold, par_level, cost)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING id
"""
PRODUCT = "SELECT * FROM product_view WHERE bar_id = $1 AND id = $2"
PATCH_PRODUCT = """
UPDATE products SET
    name = COALESCE($3, name),
    category = COALESCE($4, category),
    price = COALESCE($5, price),
    low_threshold = COALESCE($6, low_threshold),
    par_level = COALESCE($7, par_level),
    cost = CASE WHEN $8 THEN $9 ELSE cost END,
    active = COALESCE($10, active),
    updated_at = now()
WHERE bar_id = $1 AND id = $2
"""
# A product and its own stock item (same id) share threshold and par (issue 15). The item row
# is locked before the product's, the order every sale takes: an edit never deadlocks a sale.
LOCK_OWN_ITEM = "SELECT 1 FROM stock_items WHERE bar_id = $1 AND id = $2 FOR NO KEY UPDATE"
OWN_ITEM_LEVELS = """
UPDATE stock_items SET low_threshold = COALESCE($3, low_threshold),
                       par_level = COALESCE($4, par_level), updated_at = now()
WHERE bar_id = $1 AND id = $2
"""
# seq and products read in one statement: one snapshot, so they agree.
PRODUCTS = """
SELECT (SELECT seq FROM bars WHERE id = $1) AS seq,
       COALESCE((SELECT jsonb_agg(to_jsonb(p) - 'bar_id'
                                  ORDER BY p.active DESC, p.category, p.name, p.id)
                 FROM product_view p WHERE p.bar_id = $1), '[]')::text AS products
"""
# Sales as the API shows them, newest first, keyset-paginated on (created_at, id).
SALES_PAGE = """
SELECT s.created_at, s.id, (bt_sale_json(s) || bt_sale_void_json(s))::text AS sale
FROM sales s
WHERE s.bar_id = $1 AND ($2::timestamptz IS NULL OR (s.created_at, s.id) < ($2, $3::uuid))
ORDER BY s.created_at DESC, s.id DESC
LIMIT $4
"""
# Whole transactions only: up to `limit` rows, or the one transaction that is larger.
MOVEMENTS_PAGE = """
WITH per_seq AS (
    SELECT seq, count(*) AS n FROM movements
    WHERE bar_id = $1 AND seq > $2 AND ($4::uuid IS NULL OR product_id = $4)
    GROUP BY seq ORDER BY seq LIMIT $3
), chosen AS (
    SELECT seq, sum(n) OVER (ORDER BY seq) AS running, row_number() OVER (ORDER BY seq) AS rn
    FROM per_seq
)
SELECT COALESCE(jsonb_agg(jsonb_build_object(
    'seq', m.seq, 'product_id', m.product_id, 'delta', m.delta, 'stock_after', m.stock_after,
    'kind', m.kind, 'ref_id', m.ref_id, 'actor_id', m.actor_id, 'at', bt_ts(m.at))
    ORDER BY m.seq, m.product_id), '[]')::text
FROM movements m JOIN chosen c ON c.seq = m.seq
WHERE m.bar_id = $1 AND (c.running <= $3 OR c.rn = 1)
  AND ($4::uuid IS NULL OR m.product_id = $4)
"""
STATS_TODAY = """
WITH bar AS (
    SELECT id, bt_business_date(now(), timezone, day_starts_at) AS today FROM bars WHERE id = $1
), day_sales AS (
    SELECT s.* FROM sales s, bar
    WHERE s.bar_id = bar.id AND s.business_date = bar.today AND s.voided_at IS NULL
), top AS (
    SELECT l.product_id, p.name, sum(l.qty) AS qty, sum(l.line_total) AS revenue
    FROM day_sales s JOIN sale_lines l ON l.bar_id = s.bar_id AND l.sale_id = s.id
    JOIN products p ON p.id = l.product_id
    GROUP BY l.product_id, p.name ORDER BY qty DESC, revenue DESC, p.name LIMIT 5
)
SELECT jsonb_build_object(
    'business_date', (SELECT to_char(today, 'YYYY-MM-DD') FROM bar),
    'sales_count', (SELECT count(*) FROM day_sales),
    'revenue', (SELECT COALESCE(sum(total), 0) FROM day_sales),
    'top_products', COALESCE((SELECT jsonb_agg(jsonb_build_object(
        'product_id', product_id, 'name', name, 'qty', qty, 'revenue', revenue)
        ORDER BY qty DESC, revenue DESC, name) FROM top), '[]'),
    'low_stock', COALESCE((SELECT jsonb_agg(jsonb_build_object(
        'product_id', id, 'name', name, 'stock', stock, 'low_threshold', low_threshold)
        ORDER BY stock, name)
        FROM products WHERE bar_id = $1 AND active AND stock <= low_threshold), '[]')
)::text
"""

_encode = msgspec.json.encode


def product_out(row: asyncpg.Record) -> ProductOut:
    return ProductOut(
        id=str(row["id"]),
        name=row["name"],
        category=row["category"],
        price=row["price"],
        low_threshold=row["low_threshold"],
        par_level=row["par_level"],
        cost=row["cost"],
        stock=row["stock"],
        active=row["active"],
    )


async def create_product(conn: asyncpg.Connection, member: Member, data: ProductIn) -> ProductOut:
    product_id = await conn.fetchval(
        INSERT_PRODUCT,
        member.bar_id,
        data.name.strip(),
        data.category.strip(),
        data.price,
        data.low_threshold,
        data.par_level,
        data.cost,
    )
    return product_out(await conn.fetchrow(PRODUCT, member.bar_id, product_id))


async def patch_product(
    conn: asyncpg.Connection, member: Member, product_id: uuid.UUID, data: ProductPatch
) -> ProductOut:
    levels = given(data.low_threshold), given(data.par_level)
    async with conn.transaction():
        if levels != (None, None):
            await conn.execute(LOCK_OWN_ITEM, member.bar_id, product_id)
        status = await conn.execute(
            PATCH_PRODUCT,
            member.bar_id,
            product_id,
            given(data.name),
            given(data.category),
            given(data.price),
            *levels,
            data.cost is not msgspec.UNSET,
            given(data.cost),
            given(data.active),
        )
        if status.endswith(" 0"):
            raise NotFound("No such product in this bar.")
        if levels != (None, None):
            await conn.execute(OWN_ITEM_LEVELS, member.bar_id, product_id, *levels)
    return product_out(await conn.fetchrow(PRODUCT, member.bar_id, product_id))


async def list_products(conn: asyncpg.Connection, member: Member) -> bytes:
    row = await conn.fetchrow(PRODUCTS, member.bar_id)
    return b'{"seq":%d,"products":%s}' % (row["seq"], row["products"].encode())


async def sell(
    conn: asyncpg.Connection, member: Member, data: SaleIn, max_future_s: int
) -> tuple[bool, bytes]:
    """A sale; `occurred_at` further than `max_future_s` ahead of our clock is refused: a
    phone with a wrong clock would file sales on a day that has not come (issue 12.24)."""
    if data.occurred_at is not None:
        limit = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=max_future_s)
        if data.occurred_at > limit:
            raise InvalidRequest(
                [{"field": "occurred_at", "message": "in the future (check the device's clock)"}]
            )
    row = await conn.fetchrow(SELL, member.bar_id, member.user_id, _encode(data).decode())
    return row["replayed"], row["body"].encode()


async def deliver(conn: asyncpg.Connection, member: Member, data: DeliveryIn) -> tuple[bool, bytes]:
    check_lines(data.items, "items", "qty")
    row = await conn.fetchrow(DELIVER, member.bar_id, member.user_id, _encode(data).decode())
    return row["replayed"], row["body"].encode()


async def count(conn: asyncpg.Connection, member: Member, data: CountIn) -> tuple[bool, bytes]:
    check_lines(data.counts, "counts", "counted")
    row = await conn.fetchrow(COUNT, member.bar_id, member.user_id, _encode(data).decode())
    return row["replayed"], row["body"].encode()


async def void(conn: asyncpg.Connection, member: Member, sale_id: uuid.UUID, reason: str) -> bytes:
    row = await conn.fetchrow(VOID, member.bar_id, sale_id, member.user_id, reason)
    return row["body"].encode()


def _cursor(created_at: dt.datetime, sale_id: uuid.UUID) -> str:
    raw = f"{created_at.isoformat()}|{sale_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _parse_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, sale_id = raw.partition("|")
        return dt.datetime.fromisoformat(at), uuid.UUID(sale_id)
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest([{"field": "before", "message": "not a cursor from `next`"}]) from None


async def list_sales(
    conn: asyncpg.Connection, member: Member, limit: int, before: str | None
) -> bytes:
    at, sale_id = _parse_cursor(before) if before else (None, None)
    rows = await conn.fetch(SALES_PAGE, member.bar_id, at, sale_id, limit + 1)
    page, more = rows[:limit], len(rows) > limit
    nxt = _encode(_cursor(page[-1]["created_at"], page[-1]["id"])) if more else b"null"
    return b'{"sales":[%s],"next":%s}' % (b",".join(r["sale"].encode() for r in page), nxt)


async def movements(
    conn: asyncpg.Connection,
    member: Member,
    after_seq: int,
    limit: int,
    product_id: uuid.UUID | None,
) -> bytes:
    rows = await conn.fetchval(MOVEMENTS_PAGE, member.bar_id, after_seq, limit, product_id)
    return b'{"movements":%s}' % rows.encode()


async def stats_today(conn: asyncpg.Connection, member: Member) -> bytes:
    return (await conn.fetchval(STATS_TODAY, member.bar_id)).encode()
