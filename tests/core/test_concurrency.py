"""Concurrency: the last bottle, a hot product, lock timeouts and concurrent replays."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx
import pytest

from bartender.settings import Settings
from tests.core.test_accounts import problem
from tests.support import Api, Bar, make_settings, spawn_server


async def _race(base_url: str, bar: Bar, bodies: list[dict]) -> list[httpx.Response]:
    """Fire every body at once, each over its own TCP connection."""
    clients = [httpx.AsyncClient(base_url=base_url, timeout=30) for _ in bodies]
    try:
        # open the connections first so the requests really leave together
        await asyncio.gather(*(c.get("/api/health") for c in clients))
        start = asyncio.Event()

        async def one(client: httpx.AsyncClient, body: dict) -> httpx.Response:
            await start.wait()
            return await client.post(
                f"/api/bars/{bar.id}/sales", headers=bar.owner.headers, json=body
            )

        tasks = [asyncio.create_task(one(c, b)) for c, b in zip(clients, bodies, strict=True)]
        await asyncio.sleep(0.05)
        start.set()
        return await asyncio.gather(*tasks)
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


async def test_last_bottle_race_over_real_connections(api: Api, database_url: str) -> None:
    bar = await api.bar()
    bottle = await api.product(bar, "Dernière bouteille", stock=1)
    seq = await api.seq(bar)
    async with spawn_server(database_url) as other_process:
        bodies = [
            {"id": str(uuid.uuid4()), "items": [{"product_id": bottle, "qty": 1}]}
            for _ in range(20)
        ]
        results = await _race(other_process, bar, bodies)
    statuses = sorted(r.status_code for r in results)
    assert statuses.count(201) == 1, statuses
    assert set(statuses) <= {201, 409, 503}
    for r in results:
        if r.status_code == 409:
            body = problem(r, 409, "insufficient_stock")
            assert (body["requested"], body["available"]) == (1, 0)
    assert (await api.stock(bar))[bottle] == 0
    assert await api.seq(bar) == seq + 1


async def test_hot_product_stock_ledger_and_seq_agree(api: Api, database_url: str) -> None:
    bar = await api.bar()
    hot = await api.product(bar, "Flag", stock=150)
    # all 200 admitted and queued (overload shedding is tests/core/test_overload.py's subject)
    unbounded = {
        "BARTENDER_MAX_IN_FLIGHT_WRITES": "256",
        "BARTENDER_POOL_ACQUIRE_TIMEOUT_MS": "60000",
    }
    async with spawn_server(database_url, **unbounded) as other_process:
        bodies = [
            {"id": str(uuid.uuid4()), "items": [{"product_id": hot, "qty": 1}]} for _ in range(200)
        ]
        results = await _race(other_process, bar, bodies)
    sold = sum(r.status_code == 201 for r in results)
    assert sold == 150, sorted(r.status_code for r in results)
    assert all(r.status_code in (201, 409, 503) for r in results)
    pool = api.server.rt.pool
    stock, seq = await pool.fetchrow(
        "SELECT p.stock, b.seq FROM products p JOIN bars b ON b.id = p.bar_id WHERE p.id = $1",
        uuid.UUID(hot),
    )
    ledger_sum, ledger_rows, seqs = await pool.fetchrow(
        "SELECT sum(delta), count(*), array_agg(seq ORDER BY seq) FROM movements "
        "WHERE product_id = $1",
        uuid.UUID(hot),
    )
    numbers = await pool.fetchval(
        "SELECT array_agg(number ORDER BY number) FROM sales WHERE bar_id = $1", uuid.UUID(bar.id)
    )
    assert stock == 0 == ledger_sum
    assert ledger_rows == 1 + sold and seq == 1 + sold
    assert seqs == list(range(1, seq + 1))
    assert numbers == list(range(1, sold + 1))


class TestLockTimeout:
    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        return make_settings(database_url, lock_timeout_ms=300)

    async def test_held_row_lock_answers_busy_and_changes_nothing(
        self, api: Api, database_url: str
    ) -> None:
        bar = await api.bar()
        flag = await api.product(bar, "Flag", stock=5)
        seq = await api.seq(bar)
        holder = await asyncpg.connect(database_url)
        try:
            tx = holder.transaction()
            await tx.start()
            await holder.execute("SELECT 1 FROM products WHERE id = $1 FOR UPDATE", uuid.UUID(flag))
            sale_id = str(uuid.uuid4())
            r = await api.sell(bar, {flag: 1}, sale_id=sale_id)
            body = problem(r, 503, "busy")
            assert int(r.headers["retry-after"]) >= 1 and body["detail"]
            await tx.rollback()
        finally:
            await holder.close()
        assert (await api.stock(bar))[flag] == 5 and await api.seq(bar) == seq
        retry = await api.sell(bar, {flag: 1}, sale_id=sale_id)  # the id was not used up
        assert retry.status_code == 201


async def test_concurrent_requests_with_the_same_id(api: Api) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=10)
    body = {"id": str(uuid.uuid4()), "items": [{"product_id": flag, "qty": 2}]}
    results = await _race(api.server.base_url, bar, [body] * 10)
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200] * 9 + [201], statuses
    assert len({r.content for r in results}) == 1
    assert (await api.stock(bar))[flag] == 8


async def test_opposite_line_orders_never_deadlock(api: Api) -> None:
    bar = await api.bar()
    a = await api.product(bar, "A", stock=100)
    b = await api.product(bar, "B", stock=100)
    bodies = [
        {
            "id": str(uuid.uuid4()),
            "items": [{"product_id": x, "qty": 1}, {"product_id": y, "qty": 1}],
        }
        for x, y in [(a, b), (b, a)] * 20
    ]
    results = await _race(api.server.base_url, bar, bodies)
    assert [r.status_code for r in results] == [201] * 40
    assert await api.stock(bar) == {a: 60, b: 60}


async def test_last_4_cl_race_across_glasses_and_cocktails(api: Api, database_url: str) -> None:
    """Issue 15: the last 4 cl of whisky, wanted by 20 sales at once through two processes,
    half of them a glass (4 cl), half a cocktail (4 cl whisky + 1 lime): exactly one wins,
    nothing deadlocks, the books agree."""
    bar = await api.bar()
    headers = bar.owner.headers
    ids = {}
    for name, unit in (("Whisky", "cl"), ("Citron vert", "pièce")):
        r = await api.http.post(
            f"/api/bars/{bar.id}/stock-items",
            headers=headers,
            json={"name": name, "base_unit": unit, "packs": []},
        )
        ids[name] = r.json()["id"]
    whisky, lime = ids["Whisky"], ids["Citron vert"]
    glass = await api.product(bar, "Whisky (verre)")
    cocktail = await api.product(bar, "Whisky sour")
    for product, components in ((glass, {whisky: 4}), (cocktail, {whisky: 4, lime: 1})):
        r = await api.http.put(
            f"/api/bars/{bar.id}/products/{product}/recipe",
            headers=headers,
            json={"components": [{"stock_item_id": i, "qty": q} for i, q in components.items()]},
        )
        assert r.status_code == 200, r.text
    r = await api.http.post(
        f"/api/bars/{bar.id}/deliveries",
        headers=headers,
        json={
            "id": str(uuid.uuid4()),
            "items": [{"stock_item_id": whisky, "units": 4}, {"stock_item_id": lime, "units": 5}],
        },
    )
    assert r.status_code == 201, r.text
    seq = await api.seq(bar)
    async with spawn_server(database_url) as other_process:
        bodies = [
            {"id": str(uuid.uuid4()), "items": [{"product_id": glass, "qty": 1}]}
            if i % 2
            else {"id": str(uuid.uuid4()), "items": [{"product_id": cocktail, "qty": 1}]}
            for i in range(20)
        ]
        results = await _race(other_process, bar, bodies)
    statuses = sorted(r.status_code for r in results)
    assert statuses.count(201) == 1, statuses
    assert set(statuses) <= {201, 409, 503}
    for r in results:
        if r.status_code == 409:
            body = problem(r, 409, "insufficient_stock")
            assert body["stock_item_id"] == whisky and body["available"] == 0
    pool = api.server.rt.pool
    stock = dict(
        await pool.fetch("SELECT id, stock FROM stock_items WHERE bar_id = $1", uuid.UUID(bar.id))
    )
    won = next(r.json() for r in results if r.status_code == 201)
    sold_cocktail = won["items"][0]["product_id"] == cocktail
    assert stock[uuid.UUID(whisky)] == 0
    assert stock[uuid.UUID(lime)] == (4 if sold_cocktail else 5)
    assert (await api.stock(bar))[glass] == 0 == (await api.stock(bar))[cocktail]
    assert await api.seq(bar) == seq + 1
    ledger = await pool.fetchval(
        "SELECT sum(delta) FROM item_movements WHERE stock_item_id = $1", uuid.UUID(whisky)
    )
    assert ledger == 0
