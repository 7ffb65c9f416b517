"""Waste and transfers: check the request's shape, call the one plpgsql function, pass its
JSON body through. The functions lock, check roles and stock, write both ledgers and NOTIFY."""

from __future__ import annotations

from typing import Any, cast

import asyncpg
import msgspec

from bartender.bars.access import Member
from bartender.corrections.schemas import TransferIn, WasteIn
from bartender.errors import InvalidRequest
from bartender.stock.items import check_lines

WASTE = "SELECT replayed, body::text FROM bt_waste($1, $2, $3::jsonb)"
TRANSFER = "SELECT replayed, body::text FROM bt_transfer($1, $2, $3::jsonb)"
# Newest first: what left the shelves without a sale (the shrinkage report reads this too).
WASTE_LIST = """
SELECT COALESCE(jsonb_agg(jsonb_build_object(
    'id', id, 'seq', seq, 'kind', kind, 'reason', reason, 'value_cost', value_cost,
    'value_price', value_price, 'created_at', bt_ts(created_at), 'actor_id', actor_id)
    ORDER BY seq DESC), '[]')::text
FROM (SELECT * FROM waste WHERE bar_id = $1 ORDER BY seq DESC LIMIT $2) AS w
"""

_encode = msgspec.json.encode


async def record_waste(
    conn: asyncpg.Connection, member: Member, data: WasteIn
) -> tuple[bool, bytes]:
    """Staff may call it; the function refuses them unless the bar allows it (403)."""
    # WasteLine is an ItemQuantity like a delivery line: the same shape rules apply
    check_lines(cast(Any, data.items), "items", "qty")
    row = await conn.fetchrow(WASTE, member.bar_id, member.user_id, _encode(data).decode())
    return row["replayed"], row["body"].encode()


async def list_waste(conn: asyncpg.Connection, member: Member, limit: int) -> bytes:
    rows = await conn.fetchval(WASTE_LIST, member.bar_id, limit)
    return b'{"waste":%s}' % rows.encode()


async def transfer(
    conn: asyncpg.Connection, member: Member, data: TransferIn
) -> tuple[bool, bytes]:
    """The caller manages the source bar (checked at the edge); the function checks the
    destination (404 for a non-member, 403 for staff there)."""
    check_lines(cast(Any, data.items), "items", "qty")
    errors = [
        {"field": f"items[{i}].to_product_id", "message": "give to_product_id or to_stock_item_id"}
        for i, line in enumerate(data.items)
        if (line.to_product_id is None) == (line.to_stock_item_id is None)
    ]
    if data.to_bar_id == member.bar_id:
        errors.append({"field": "to_bar_id", "message": "a transfer goes to another bar"})
    if errors:
        raise InvalidRequest(errors)
    row = await conn.fetchrow(TRANSFER, member.bar_id, member.user_id, _encode(data).decode())
    return row["replayed"], row["body"].encode()
