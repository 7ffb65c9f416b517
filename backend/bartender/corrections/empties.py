"""Containers and empties (consignes): the bar's containers with their deposit, the customer
empties refund at the till, and the empties balance with each supplier. The stock side is in
migrations/functions/43_stock_empties.sql (empties are a stock item per container)."""

from __future__ import annotations

import asyncpg
import msgspec

from bartender.bars.access import Member
from bartender.corrections.schemas import ContainerIn, EmptiesRefundIn

CREATE = "SELECT bt_create_container($1, $2::jsonb)::text"
LIST = """
SELECT COALESCE(jsonb_agg(bt_container_json(bar_id, id) ORDER BY name, id), '[]')::text
FROM containers WHERE bar_id = $1
"""
REFUND = "SELECT replayed, body::text FROM bt_empties_refund($1, $2, $3::jsonb)"
# Per supplier and container: full containers received, empties handed back, what the bar
# still holds of the supplier's containers (received - handed back) and its deposit value.
BALANCE = """
SELECT COALESCE(jsonb_agg(jsonb_build_object(
    'supplier', supplier, 'container_id', container_id, 'name', name, 'full_in', full_in,
    'empties_out', empties_out, 'balance', full_in - empties_out,
    'value', (full_in - empties_out) * deposit) ORDER BY supplier, name, container_id), '[]')::text
FROM (SELECT COALESCE(d.supplier, '') AS supplier, c.id AS container_id, c.name, c.deposit,
             sum(x.full_in) AS full_in, sum(x.empties_out) AS empties_out
      FROM delivery_containers x
      JOIN deliveries d ON d.bar_id = x.bar_id AND d.id = x.delivery_id
      JOIN containers c ON c.bar_id = x.bar_id AND c.id = x.container_id
      WHERE x.bar_id = $1
      GROUP BY 1, 2, 3, 4) AS b
"""

_encode = msgspec.json.encode


async def create_container(conn: asyncpg.Connection, member: Member, data: ContainerIn) -> bytes:
    return bytes((await conn.fetchval(CREATE, member.bar_id, _encode(data).decode())).encode())


async def list_containers(conn: asyncpg.Connection, member: Member) -> bytes:
    return b'{"containers":%s}' % (await conn.fetchval(LIST, member.bar_id)).encode()


async def refund(
    conn: asyncpg.Connection, member: Member, data: EmptiesRefundIn
) -> tuple[bool, bytes]:
    row = await conn.fetchrow(REFUND, member.bar_id, member.user_id, _encode(data).decode())
    return row["replayed"], row["body"].encode()


async def balance(conn: asyncpg.Connection, member: Member) -> bytes:
    return b'{"suppliers":%s}' % (await conn.fetchval(BALANCE, member.bar_id)).encode()
