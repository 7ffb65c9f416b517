"""Property: sales, deliveries, voids, waste of every kind, transfers both ways between two
bars, returns (restock and waste) and replays, in any order, keep both bars' books right.

Drives the SQL functions directly (the ones the API calls) for speed. Invariants per bar:
every stock item's stock is the sum of its base-unit ledger and never negative, every
product's stock is the sum of its ledger and its availability, seq is gapless and counts the
transactions that moved stock, receipt numbers are gapless, a replay returns the stored body,
no sale line is returned beyond what it sold, and refunds are the line price times quantity.
Sales may be take-away (issue 16): bar 0 has a bottle container holding its first two simple
products and a crate (not a bottle: nothing per sale); every sale's deposits are its take-away
lines' bottles times the deposit, and the bottles' empties are what the standing sales consumed
on the premises. A second property follows containers' empties (refunds, deliveries with
empties handed back, breakage) and each supplier's balance.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bartender.corrections.empties import BALANCE
from tests.support import clone_template_sync

SIMPLE = 3  # products that are their own stock item, in both bars
WASTE_KINDS = ["breakage", "spillage", "expired", "offered", "staff_drink"]
# a product of bar 0 made of its simple products' items: {simple product index: base units}
COMPOSITE = {0: 2, 1: 1}

lines = st.lists(st.tuples(st.integers(0, SIMPLE - 1), st.integers(1, 6)), min_size=1, max_size=3)
op = st.one_of(
    st.tuples(st.just("sell"), st.integers(0, 1), lines, st.booleans()),
    st.tuples(st.just("deliver"), st.integers(0, 1), lines, st.just(None)),
    # take-away: every line (True) or only the first line's product (False)
    st.tuples(st.just("sell_take_away"), st.integers(0, 1), lines, st.booleans()),
    st.tuples(st.just("waste"), st.integers(0, 1), lines, st.sampled_from(WASTE_KINDS)),
    st.tuples(st.just("transfer"), st.integers(0, 1), lines, st.just(None)),
    st.tuples(
        st.just("return"),
        st.integers(0, 50),
        st.lists(
            st.tuples(st.integers(0, 3), st.integers(1, 3), st.booleans()), min_size=1, max_size=3
        ),
        st.just(None),
    ),
    st.tuples(st.just("void"), st.integers(0, 50), st.just([]), st.just(None)),
    st.tuples(st.just("replay"), st.integers(0, 50), st.just([]), st.just(None)),
)
# what each function may refuse, and nothing else
REFUSALS = {
    "bt_sell": {"BTI01"},
    "bt_waste": {"BTI01"},
    "bt_transfer": {"BTI01"},
    "bt_return": {"BTR01"},
    "bt_deliver": set(),
}


@pytest.fixture(scope="module")
def property_db(pg_admin_url: str, template_url: str) -> str:
    return clone_template_sync(pg_admin_url)


async def _check_bar(conn: asyncpg.Connection, bar: uuid.UUID, committed: int, sales: int) -> None:
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM stock_items i WHERE i.bar_id = $1 AND (i.stock < 0 OR i.stock <> "
            "COALESCE((SELECT sum(delta) FROM item_movements m WHERE m.stock_item_id = i.id), 0))",
            bar,
        )
        == 0
    )
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM products p WHERE p.bar_id = $1 AND (p.stock <> COALESCE(("
            "SELECT sum(delta) FROM movements m WHERE m.product_id = p.id), 0) OR p.stock <> ("
            "SELECT min(i.stock / c.qty) FROM product_components c "
            "JOIN stock_items i ON i.id = c.stock_item_id WHERE c.product_id = p.id))",
            bar,
        )
        == 0
    )
    seq = await conn.fetchval("SELECT seq FROM bars WHERE id = $1", bar)
    seqs = await conn.fetchval(
        "SELECT array_agg(DISTINCT seq ORDER BY seq) FROM item_movements WHERE bar_id = $1", bar
    )
    assert seq == committed and (seqs or []) == list(range(1, seq + 1))
    numbers = await conn.fetchval(
        "SELECT array_agg(number ORDER BY number) FROM sales WHERE bar_id = $1", bar
    )
    assert (numbers or []) == list(range(1, sales + 1))
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM sales s, bt_returnable(s.bar_id, s.id) x "
            "WHERE s.bar_id = $1 AND x.returnable < 0",
            bar,
        )
        == 0
    )
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM returns r WHERE r.bar_id = $1 AND r.refund <> ("
            "SELECT sum(l.qty * s.unit_price) FROM return_lines l "
            "JOIN sale_lines s ON s.bar_id = l.bar_id AND s.sale_id = r.sale_id "
            "AND s.product_id = l.product_id "
            "WHERE l.bar_id = r.bar_id AND l.return_id = r.id)",
            bar,
        )
        == 0
    )


BOTTLE_DEPOSIT = 100


async def _check_deposits_and_empties(conn: asyncpg.Connection, bar: uuid.UUID) -> None:
    """Deposits charged are take-away bottles x deposit; empties are the standing sales'
    bottles consumed on the premises (nothing else moves them in this property)."""
    bottles = (
        "SELECT l.sale_id, l.product_id, l.take_away, l.deposit, l.qty * pc.qty AS units, "
        "c.deposit AS unit_deposit, c.empties_item_id FROM sale_lines l "
        "JOIN product_components pc ON pc.product_id = l.product_id "
        "JOIN container_contents k ON k.stock_item_id = pc.stock_item_id AND k.qty = 1 "
        "JOIN containers c ON c.bar_id = k.bar_id AND c.id = k.container_id "
        "WHERE l.bar_id = $1"
    )
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM sale_lines l WHERE l.bar_id = $1 AND l.deposit <> COALESCE(("
            f"SELECT sum(b.units * b.unit_deposit) FROM ({bottles}) AS b "
            "WHERE b.sale_id = l.sale_id AND b.product_id = l.product_id AND b.take_away), 0)",
            bar,
        )
        == 0
    )
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM sales s WHERE s.bar_id = $1 AND s.deposit_total <> COALESCE(("
            "SELECT sum(deposit) FROM sale_lines l WHERE l.bar_id = s.bar_id AND l.sale_id = s.id"
            "), 0)",
            bar,
        )
        == 0
    )
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM containers c JOIN stock_items i ON i.id = c.empties_item_id "
            "WHERE c.bar_id = $1 AND i.stock <> COALESCE(("
            f"SELECT sum(b.units) FROM ({bottles}) AS b JOIN sales s ON s.bar_id = $1 "
            "AND s.id = b.sale_id WHERE b.empties_item_id = c.empties_item_id "
            "AND NOT b.take_away AND s.voided_at IS NULL), 0)",
            bar,
        )
        == 0
    )


async def _play(url: str, ops: list) -> None:
    conn = await asyncpg.connect(url)
    try:
        user = await conn.fetchval(
            "INSERT INTO users (email, name, password_hash) VALUES ($1, 'P', 'x') RETURNING id",
            f"{uuid.uuid4()}@p.test",
        )
        bars: list[uuid.UUID] = []
        products: list[list[uuid.UUID]] = []
        for b in range(2):
            bar = await conn.fetchval(
                "INSERT INTO bars (name, currency, timezone) VALUES ($1, 'XOF', 'Africa/Abidjan') "
                "RETURNING id",
                f"B{b}",
            )
            await conn.execute(
                "INSERT INTO memberships (bar_id, user_id, role) VALUES ($1, $2, 'owner')",
                bar,
                user,
            )
            bars.append(bar)
            products.append(
                [
                    await conn.fetchval(
                        "INSERT INTO products (bar_id, name, price, cost) VALUES ($1, $2, $3, 100) "
                        "RETURNING id",
                        bar,
                        f"p{i}",
                        250 + i,
                    )
                    for i in range(SIMPLE)
                ]
            )
        composite = await conn.fetchval(
            "INSERT INTO products (bar_id, name, price) VALUES ($1, 'c', 900) RETURNING id", bars[0]
        )
        await conn.execute(
            "SELECT bt_set_recipe($1, $2, $3, $4::jsonb)",
            bars[0],
            composite,
            user,
            json.dumps(
                [{"stock_item_id": str(products[0][i]), "qty": q} for i, q in COMPOSITE.items()]
            ),
        )
        products[0].append(composite)
        for name, deposit, contents in (
            ("bottle", BOTTLE_DEPOSIT, {products[0][0]: 1, products[0][1]: 1}),
            ("crate", 2000, {products[0][0]: 24}),
        ):
            await conn.execute(
                "SELECT bt_create_container($1, $2::jsonb)",
                bars[0],
                json.dumps(
                    {
                        "name": name,
                        "deposit": deposit,
                        "contents": [
                            {"stock_item_id": str(i), "qty": q} for i, q in contents.items()
                        ],
                    }
                ),
            )

        committed = [0, 0]
        sales: list[tuple[int, str, list[uuid.UUID]]] = []  # (bar, id, products sold)
        sold = [0, 0]
        done: list[tuple[str, uuid.UUID, dict[str, Any], str]] = []

        async def call(fn: str, b: int, request: dict[str, Any]) -> str | None:
            """Run fn; count the seqs it moved; None when it refused (and moved nothing)."""
            before = [await conn.fetchval("SELECT seq FROM bars WHERE id = $1", x) for x in bars]
            try:
                row = await conn.fetchrow(
                    f"SELECT replayed, body::text FROM {fn}($1, $2, $3)",
                    bars[b],
                    user,
                    json.dumps(request),
                )
            except asyncpg.PostgresError as exc:
                assert exc.sqlstate in REFUSALS[fn], (fn, exc)
                after = [await conn.fetchval("SELECT seq FROM bars WHERE id = $1", x) for x in bars]
                assert after == before
                return None
            assert not row["replayed"]
            after = [await conn.fetchval("SELECT seq FROM bars WHERE id = $1", x) for x in bars]
            for x in range(2):
                assert after[x] - before[x] in (0, 1)
                committed[x] += after[x] - before[x]
            done.append((fn, bars[b], request, row["body"]))
            return str(row["body"])

        for kind, arg, items, extra in ops:
            op_id = str(uuid.uuid4())
            if kind in ("sell", "sell_take_away", "deliver", "waste"):
                b = arg
                choices = products[b] if kind != "deliver" else products[b][:SIMPLE]
                # a sale or waste in bar 0 may take the composite instead of the first line
                picked = [choices[i] for i, _ in items]
                if kind in ("sell", "waste") and b == 0 and extra is True:
                    picked[0] = composite
                merged: dict[uuid.UUID, int] = {}
                for p, (_, q) in zip(picked, items, strict=True):
                    merged[p] = merged.get(p, 0) + q
                request: dict[str, Any] = {
                    "id": op_id,
                    "items": [{"product_id": str(p), "qty": q} for p, q in merged.items()],
                }
                if kind == "sell_take_away":
                    for line in request["items"]:
                        if extra is True or line["product_id"] == str(picked[0]):
                            line["take_away"] = True
                if kind == "waste":
                    request["kind"] = extra
                body = await call(f"bt_{'sell' if kind.startswith('sell') else kind}", b, request)
                if kind.startswith("sell") and body is not None:
                    sold[b] += 1
                    sales.append((b, op_id, list(merged)))
            elif kind == "transfer":
                b = arg
                await call(
                    "bt_transfer",
                    b,
                    {
                        "id": op_id,
                        "to_bar_id": str(bars[1 - b]),
                        "items": [
                            {
                                "product_id": str(products[b][i]),
                                "to_product_id": str(products[1 - b][i]),
                                "qty": q,
                            }
                            for i, q in items
                        ],
                    },
                )
            elif kind == "return" and sales:
                b, sale_id, sold_products = sales[arg % len(sales)]
                merged_r: dict[tuple[uuid.UUID, str], int] = {}
                for i, q, restock in items:
                    key = (sold_products[i % len(sold_products)], "restock" if restock else "waste")
                    merged_r[key] = merged_r.get(key, 0) + q
                await call(
                    "bt_return",
                    b,
                    {
                        "id": op_id,
                        "sale_id": sale_id,
                        "reason": "p",
                        "items": [
                            {"product_id": str(p), "qty": q, "disposition": d}
                            for (p, d), q in merged_r.items()
                        ],
                    },
                )
            elif kind == "void" and sales:
                b, sale_id, _ = sales[arg % len(sales)]
                before = await conn.fetchval("SELECT seq FROM bars WHERE id = $1", bars[b])
                await conn.fetchrow(
                    "SELECT replayed, body::text FROM bt_void($1, $2, $3, 'p')",
                    bars[b],
                    uuid.UUID(sale_id),
                    user,
                )
                committed[b] += (
                    await conn.fetchval("SELECT seq FROM bars WHERE id = $1", bars[b]) - before
                )
            elif kind == "replay" and done:
                fn, bar, request, body = done[arg % len(done)]
                row = await conn.fetchrow(
                    f"SELECT replayed, body::text FROM {fn}($1, $2, $3)",
                    bar,
                    user,
                    json.dumps(request),
                )
                assert row["replayed"] and row["body"] == body

        for b in range(2):
            await _check_bar(conn, bars[b], committed[b], sold[b])
            await _check_deposits_and_empties(conn, bars[b])
    finally:
        await conn.close()


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=st.lists(op, min_size=1, max_size=30))
# always played: a take-away sale beside one on the premises, then a void of each
@example(
    ops=[
        ("deliver", 0, [(0, 6), (1, 6)], None),
        ("sell_take_away", 0, [(0, 3), (1, 2)], False),
        ("sell", 0, [(0, 1), (1, 2)], True),
        ("void", 0, [], None),
        ("sell", 0, [(1, 1)], False),
        ("void", 1, [], None),
    ]
)
def test_books_balance_with_waste_transfers_and_returns(property_db: str, ops: list) -> None:
    asyncio.run(_play(property_db, ops))


SUPPLIERS = ["Solibra", "Brassivoire"]
empties_op = st.one_of(
    st.tuples(st.just("refund"), st.integers(0, 1), st.integers(1, 5), st.just(0)),
    st.tuples(st.just("deliver"), st.integers(0, 1), st.integers(0, 4), st.integers(0, 6)),
    st.tuples(st.just("break"), st.integers(0, 1), st.integers(1, 3), st.just(0)),
)


async def _play_empties(url: str, ops: list) -> None:
    """The empties each container has == refunds - handed back - broken (and its ledger), and
    each supplier's balance == full containers delivered - empties handed back to them."""
    conn = await asyncpg.connect(url)
    try:
        user = await conn.fetchval(
            "INSERT INTO users (email, name, password_hash) VALUES ($1, 'P', 'x') RETURNING id",
            f"{uuid.uuid4()}@p.test",
        )
        bar = await conn.fetchval(
            "INSERT INTO bars (name, currency, timezone) VALUES ('E', 'XOF', 'Africa/Abidjan') "
            "RETURNING id"
        )
        await conn.execute(
            "INSERT INTO memberships (bar_id, user_id, role) VALUES ($1, $2, 'owner')", bar, user
        )
        flag = await conn.fetchval(
            "INSERT INTO products (bar_id, name, price) VALUES ($1, 'Flag', 600) RETURNING id", bar
        )
        containers = [
            json.loads(
                await conn.fetchval(
                    "SELECT bt_create_container($1, $2::jsonb)::text",
                    bar,
                    json.dumps(
                        {
                            "name": n,
                            "deposit": d,
                            "contents": [{"stock_item_id": str(flag), "qty": q}],
                        }
                    ),
                )
            )
            for n, d, q in (("Bouteille", 100, 1), ("Casier", 2000, 24))
        ]
        empties = [0, 0]
        balance: dict[tuple[str, str], int] = {}
        for kind, c, a, b in ops:
            cid = containers[c]["id"]
            if kind == "refund":
                fn, request = "bt_empties_refund", {"items": [{"container_id": cid, "qty": a}]}
            elif kind == "deliver":
                fn, request = (
                    "bt_deliver",
                    {
                        "supplier": SUPPLIERS[(a + b) % 2],
                        "items": [{"product_id": str(flag), "qty": 1 + a}],
                        "containers": [{"container_id": cid, "full_in": a, "empties_out": b}],
                    },
                )
            else:
                fn, request = (
                    "bt_waste",
                    {
                        "kind": "breakage",
                        "items": [{"stock_item_id": containers[c]["empties_item_id"], "qty": a}],
                    },
                )
            try:
                await conn.fetchrow(
                    f"SELECT replayed, body::text FROM {fn}($1, $2, $3)",
                    bar,
                    user,
                    json.dumps({"id": str(uuid.uuid4()), **request}),
                )
            except asyncpg.PostgresError as exc:
                assert exc.sqlstate == "BTI01" and kind in ("deliver", "break"), exc
                assert empties[c] < (b if kind == "deliver" else a)
                continue
            if kind == "refund":
                empties[c] += a
            elif kind == "deliver":
                empties[c] -= b
                key = (SUPPLIERS[(a + b) % 2], cid)
                balance[key] = balance.get(key, 0) + a - b
            else:
                empties[c] -= a
        rows = await conn.fetch(
            "SELECT c.id::text, i.stock, (SELECT COALESCE(sum(delta), 0) FROM item_movements m "
            "WHERE m.stock_item_id = i.id) AS ledger FROM containers c "
            "JOIN stock_items i ON i.id = c.empties_item_id WHERE c.bar_id = $1",
            bar,
        )
        by_id = {r["id"]: (r["stock"], r["ledger"]) for r in rows}
        assert [by_id[c["id"]] for c in containers] == [(e, e) for e in empties]
        got = {
            (x["supplier"], x["container_id"]): (x["balance"], x["value"])
            for x in json.loads(await conn.fetchval(BALANCE, bar))
        }
        deposit = {c["id"]: c["deposit"] for c in containers}
        assert got == {k: (v, v * deposit[k[1]]) for k, v in balance.items()}
    finally:
        await conn.close()


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=st.lists(empties_op, min_size=1, max_size=25))
def test_empties_balance_per_container_and_supplier(property_db: str, ops: list) -> None:
    asyncio.run(_play_empties(property_db, ops))
