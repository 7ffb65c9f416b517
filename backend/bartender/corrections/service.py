"""Waste, transfers and returns: check the request's shape, call the one plpgsql function,
pass its JSON body through. The functions lock, check roles and stock, write the ledgers and
NOTIFY."""

from __future__ import annotations

import uuid
from typing import Any, cast

import asyncpg
import msgspec

from bartender.bars.access import Member
from bartender.corrections.schemas import ReturnIn, TransferIn, WasteIn
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

RETURN = "SELECT replayed, body::text FROM bt_return($1, $2, $3::jsonb)"
DECIDE_RETURN = "SELECT replayed, body::text FROM bt_decide_return($1, $2, $3, $4, $5)"
# Returns of the bar, oldest pending first (what a manager has to decide), then newest.
RETURNS_LIST = """
SELECT COALESCE(jsonb_agg(bt_return_json(bar_id, id) || '{"stock": []}'
                          ORDER BY requested_at, id), '[]')::text
FROM (SELECT bar_id, id, requested_at FROM returns
      WHERE bar_id = $1 AND ($2::text IS NULL OR status = $2)
      ORDER BY requested_at DESC, id DESC LIMIT $3) AS r
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


async def request_return(
    conn: asyncpg.Connection, member: Member, sale_id: uuid.UUID, data: ReturnIn
) -> tuple[bool, bytes]:
    """Staff's return waits for a manager (`pending`); a manager's is approved at once."""
    request = msgspec.structs.asdict(data) | {"sale_id": sale_id}
    row = await conn.fetchrow(RETURN, member.bar_id, member.user_id, _encode(request).decode())
    return row["replayed"], row["body"].encode()


async def decide_return(
    conn: asyncpg.Connection,
    member: Member,
    return_id: uuid.UUID,
    approve: bool,
    note: str | None,
) -> bytes:
    row = await conn.fetchrow(
        DECIDE_RETURN, member.bar_id, member.user_id, return_id, approve, note
    )
    return bytes(row["body"].encode())


async def list_returns(
    conn: asyncpg.Connection, member: Member, status: str | None, limit: int
) -> bytes:
    rows = await conn.fetchval(RETURNS_LIST, member.bar_id, status, limit)
    return b'{"returns":%s}' % rows.encode()
