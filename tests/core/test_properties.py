"""Property: any sequence of sales, deliveries, voids, counts and replays keeps the books right.

Drives the SQL functions directly (the same ones the API calls) for speed; invariants:
stock == sum of ledger deltas, stock >= 0, seq gapless and equal to the number of stock
transactions, receipt numbers gapless, and a replay returns the stored body. Two products are
made of the others' stock items (issue 15): every item's stock is the sum of its base-unit
ledger, and every product's stock is its availability (min of floor(item stock / qty)).
"""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import clone_template_sync

PRODUCTS = 3
# products made of the simple products' own items: {simple product index: base units}
COMPOSITES = [{0: 2}, {1: 1, 2: 1}]

op = st.one_of(
    st.tuples(
        st.just("sell"),
        st.lists(
            st.tuples(st.integers(0, PRODUCTS + len(COMPOSITES) - 1), st.integers(1, 6)),
            min_size=1,
            max_size=4,
        ),
    ),
    st.tuples(
        st.just("deliver"),
        st.lists(
            st.tuples(st.integers(0, PRODUCTS - 1), st.integers(1, 10)), min_size=1, max_size=3
        ),
    ),
    st.tuples(
        st.just("count"),
        st.lists(
            st.tuples(st.integers(0, PRODUCTS - 1), st.integers(0, 12)), min_size=1, max_size=3
        ),
    ),
    st.tuples(st.just("void"), st.integers(0, 50)),
    st.tuples(st.just("replay"), st.integers(0, 50)),
)


@pytest.fixture(scope="module")
def property_db(pg_admin_url: str, template_url: str) -> str:
    return clone_template_sync(pg_admin_url)


async def _play(url: str, ops: list) -> None:
    conn = await asyncpg.connect(url)
    try:
        user = await conn.fetchval(
            "INSERT INTO users (email, name, password_hash) VALUES ($1, 'P', 'x') RETURNING id",
            f"{uuid.uuid4()}@p.test",
        )
        bar = await conn.fetchval(
            "INSERT INTO bars (name, currency, timezone) VALUES "
            "('P', 'EUR', 'Europe/Paris') RETURNING id"
        )
        products = [
            await conn.fetchval(
                "INSERT INTO products (bar_id, name, price, cost) VALUES ($1, $2, 250, 100) "
                "RETURNING id",
                bar,
                f"p{i}",
            )
            for i in range(PRODUCTS)
        ]
        for n, recipe in enumerate(COMPOSITES):
            composite = await conn.fetchval(
                "INSERT INTO products (bar_id, name, price) VALUES ($1, $2, 900) RETURNING id",
                bar,
                f"c{n}",
            )
            await conn.execute(
                "SELECT bt_set_recipe($1, $2, $3, $4::jsonb)",
                bar,
                composite,
                user,
                json.dumps(
                    [{"stock_item_id": str(products[i]), "qty": q} for i, q in recipe.items()]
                ),
            )
            products.append(composite)
        done: list[tuple[str, dict, str]] = []  # (function, request, body)
        sales: list[str] = []
        committed = 0
        for kind, arg in ops:
            if kind in ("sell", "deliver", "count"):
                key = "counted" if kind == "count" else "qty"
                field = "counts" if kind == "count" else "items"
                request = {
                    "id": str(uuid.uuid4()),
                    field: [{"product_id": str(products[i]), key: q} for i, q in arg],
                }
                fn = {"sell": "bt_sell", "deliver": "bt_deliver", "count": "bt_count"}[kind]
                seq_before = await conn.fetchval("SELECT seq FROM bars WHERE id = $1", bar)
                try:
                    row = await conn.fetchrow(
                        f"SELECT replayed, body::text FROM {fn}($1, $2, $3)",
                        bar,
                        user,
                        json.dumps(request),
                    )
                except asyncpg.PostgresError as exc:
                    assert kind == "sell" and exc.sqlstate == "BTI01", exc
                    assert (
                        await conn.fetchval("SELECT seq FROM bars WHERE id = $1", bar) == seq_before
                    )
                    continue
                assert not row["replayed"]
                done.append((fn, request, row["body"]))
                if kind == "sell":
                    sales.append(request["id"])
                if await conn.fetchval("SELECT seq FROM bars WHERE id = $1", bar) != seq_before:
                    committed += 1
            elif kind == "void" and sales:
                sale_id = sales[arg % len(sales)]
                first = await conn.fetchrow(
                    "SELECT replayed, body::text FROM bt_void($1, $2, $3, 'p')",
                    bar,
                    uuid.UUID(sale_id),
                    user,
                )
                committed += 0 if first["replayed"] else 1
                again = await conn.fetchrow(
                    "SELECT replayed, body::text FROM bt_void($1, $2, $3, 'q')",
                    bar,
                    uuid.UUID(sale_id),
                    user,
                )
                assert again["replayed"] and again["body"] == first["body"]
            elif kind == "replay" and done:
                fn, request, body = done[arg % len(done)]
                row = await conn.fetchrow(
                    f"SELECT replayed, body::text FROM {fn}($1, $2, $3)",
                    bar,
                    user,
                    json.dumps(request),
                )
                assert row["replayed"] and row["body"] == body

        mismatched = await conn.fetch(
            "SELECT p.id FROM products p LEFT JOIN movements m ON m.product_id = p.id "
            "WHERE p.bar_id = $1 GROUP BY p.id, p.stock "
            "HAVING p.stock <> COALESCE(sum(m.delta), 0)",
            bar,
        )
        assert mismatched == []
        assert await conn.fetchval(
            "SELECT bool_and(stock >= 0) FROM products WHERE bar_id = $1", bar
        )
        seq = await conn.fetchval("SELECT seq FROM bars WHERE id = $1", bar)
        seqs = await conn.fetchval(
            "SELECT array_agg(DISTINCT seq ORDER BY seq) FROM movements WHERE bar_id = $1", bar
        )
        assert seq == committed and (seqs or []) == list(range(1, seq + 1))
        numbers = await conn.fetchval(
            "SELECT array_agg(number ORDER BY number) FROM sales WHERE bar_id = $1", bar
        )
        assert (numbers or []) == list(range(1, len(sales) + 1))
        # stock items: stock == sum of the base-unit ledger; products: availability
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM stock_items i WHERE i.bar_id = $1 AND i.stock <> COALESCE(("
                "SELECT sum(delta) FROM item_movements m WHERE m.stock_item_id = i.id), 0)",
                bar,
            )
            == 0
        )
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM products p WHERE p.bar_id = $1 AND p.stock <> ("
                "SELECT min(i.stock / c.qty) FROM product_components c "
                "JOIN stock_items i ON i.id = c.stock_item_id WHERE c.product_id = p.id)",
                bar,
            )
            == 0
        )
        # each product's last ledger row says what the stock is
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM products p WHERE p.bar_id = $1 AND p.stock <> COALESCE(("
                "SELECT stock_after FROM movements m WHERE m.product_id = p.id "
                "ORDER BY seq DESC LIMIT 1), 0)",
                bar,
            )
            == 0
        )
    finally:
        await conn.close()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=st.lists(op, min_size=1, max_size=25))
def test_books_always_balance(property_db: str, ops: list) -> None:
    asyncio.run(_play(property_db, ops))
