"""What the load scripts share: a free port, an owner, bars and composite products seeded
straight into the database (the benchmarks measure the sale path, not the set-up), stock
always through bt_deliver so the ledger is as real as the app's."""

from __future__ import annotations

import json
import socket
import uuid
from typing import Any

import asyncpg


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def owner(conn: asyncpg.Connection, label: str) -> tuple[Any, str, str]:
    """A user who can log in (cheap argon2); returns (id, email, password)."""
    from argon2 import PasswordHasher

    email, password = f"{label.lower()}-{uuid.uuid4().hex[:8]}@example.com", uuid.uuid4().hex
    user = await conn.fetchval(
        "INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3) RETURNING id",
        email,
        label,
        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(password),
    )
    return user, email, password


async def owned_bar(conn: asyncpg.Connection, user: Any, name: str, timezone: str = "UTC") -> Any:
    """A XOF bar owned by `user`."""
    bar = await conn.fetchval(
        "INSERT INTO bars (name, currency, timezone) VALUES ($1, 'XOF', $2) RETURNING id",
        name,
        timezone,
    )
    await conn.execute(
        "INSERT INTO memberships (bar_id, user_id, role) VALUES ($1, $2, 'owner')", bar, user
    )
    return bar


async def deliver(conn: asyncpg.Connection, bar: Any, user: Any, items: list[dict]) -> None:
    """One delivery of `items` (product_id or stock_item_id lines) through bt_deliver."""
    await conn.execute(
        "SELECT bt_deliver($1, $2, $3::jsonb)",
        bar,
        user,
        json.dumps({"id": str(uuid.uuid4()), "items": items}),
    )


async def make_composite(
    conn: asyncpg.Connection, bar: Any, user: Any, product: Any, extra: int, stock: int
) -> None:
    """Make `product` consume its own item and `extra` new items (1 each), all stocked."""
    parts = [product] + [
        await conn.fetchval(
            "INSERT INTO stock_items (bar_id, name) VALUES ($1, $2) RETURNING id",
            bar,
            f"{product}-{k}",
        )
        for k in range(extra)
    ]
    await conn.execute(
        "SELECT bt_set_recipe($1, $2, $3, $4::jsonb)",
        bar,
        product,
        user,
        json.dumps([{"stock_item_id": str(i), "qty": 1} for i in parts]),
    )
    await deliver(conn, bar, user, [{"stock_item_id": str(i), "qty": stock} for i in parts[1:]])
