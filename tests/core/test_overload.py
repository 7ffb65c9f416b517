"""Overload: bounded waits for a pooled connection, admission control on stock operations.

Both answer 503 `busy` with `Retry-After` instead of queueing, and a refused sale retried later
with the same id happens exactly once (issue 11).
"""

from __future__ import annotations

import asyncio
import time
import uuid

import asyncpg
import httpx
import pytest

from bartender.errors import Busy
from bartender.settings import Settings
from tests.support import Api, Bar, eventually, make_settings, start_server


async def _bar_with_product(api: Api) -> tuple[Bar, str]:
    bar = await api.bar()
    product = await api.product(bar, stock=50)
    return bar, product


async def test_pool_wait_is_bounded_with_one_held_connection(database_url: str) -> None:
    settings = make_settings(
        database_url, pool_min_size=1, pool_max_size=1, pool_acquire_timeout_ms=300
    )
    async with (
        start_server(settings) as server,
        httpx.AsyncClient(base_url=server.base_url, timeout=30) as http,
    ):
        api = Api(http, server)
        bar, product = await _bar_with_product(api)
        sale_id = str(uuid.uuid4())
        pool = server.rt.pool

        held = await pool.acquire()  # the pool's only connection
        try:
            with pytest.raises(Busy) as refused:
                async with pool.acquire():
                    pass
            assert refused.value.reason == "pool_timeout"

            started = time.monotonic()
            r = await api.sell(bar, {product: 2}, sale_id=sale_id)
            waited = time.monotonic() - started
            assert r.status_code == 503, r.text
            assert r.json()["type"] == "busy"
            assert r.headers["retry-after"] == "1"
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["request_id"] == r.headers["x-request-id"]
            assert waited < 5, waited  # bounded by the 0.3 s acquire timeout, not by the client
            # a cheap read that needs no connection is still served, and a saturated pool
            # does not take the instance out of rotation (it sheds load itself)
            assert (await http.get("/api/health")).status_code == 200
            ready = await http.get("/api/ready")
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"]["postgres"] == "busy"
        finally:
            await pool.release(held)

        # the refused sale left no trace: retried with the same id it happens once
        r = await api.sell(bar, {product: 2}, sale_id=sale_id)
        assert r.status_code == 201, r.text
        replay = await api.sell(bar, {product: 2}, sale_id=sale_id)
        assert replay.status_code == 200 and replay.content == r.content
        assert (await api.stock(bar))[product] == 48


async def _lock_waiters(admin: asyncpg.Connection) -> int:
    return int(
        await admin.fetchval(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE application_name = 'bartender' AND wait_event_type = 'Lock'"
        )
    )


async def test_admission_refuses_at_once_beyond_the_bound(database_url: str) -> None:
    # two stock operations in flight at most; they will wait on a row lock we hold
    settings: Settings = make_settings(database_url, max_in_flight_writes=2, lock_timeout_ms=20_000)
    async with (
        start_server(settings) as server,
        httpx.AsyncClient(base_url=server.base_url, timeout=30) as http,
    ):
        api = Api(http, server)
        bar, product = await _bar_with_product(api)
        headers, bar_id = bar.owner.headers, bar.id

        def sale(sale_id: str) -> asyncio.Task[httpx.Response]:
            return asyncio.create_task(
                http.post(
                    f"/api/bars/{bar_id}/sales",
                    headers=headers,
                    json={"id": sale_id, "items": [{"product_id": product, "qty": 1}]},
                )
            )

        locker = await asyncpg.connect(database_url)
        admin = await asyncpg.connect(database_url)
        try:
            tx = locker.transaction()
            await tx.start()
            await locker.execute(
                "SELECT 1 FROM products WHERE id = $1 FOR UPDATE", uuid.UUID(product)
            )
            blocked = [sale(str(uuid.uuid4())) for _ in range(2)]

            async def both_waiting() -> bool:
                return await _lock_waiters(admin) == 2

            await eventually(both_waiting, what="both admitted sales waiting on the row lock")

            refused_id = str(uuid.uuid4())
            refused = await sale(refused_id)
            assert refused.status_code == 503, refused.text
            assert refused.json()["type"] == "busy"
            assert refused.headers["retry-after"] == "1"
            assert "x-request-id" in refused.headers
            # answered while both admitted sales still wait: refusal did not queue
            assert await _lock_waiters(admin) == 2
            assert not any(t.done() for t in blocked)

            # reads are never refused, even with every slot taken
            assert (await http.get("/api/health")).status_code == 200
            poll = await http.get(f"/api/bars/{bar_id}/stock", headers=headers)
            assert poll.status_code == 200
            etag = poll.headers["etag"]
            unchanged = await http.get(
                f"/api/bars/{bar_id}/stock", headers={**headers, "If-None-Match": etag}
            )
            assert unchanged.status_code == 304
            await tx.rollback()
        finally:
            await locker.close()

        try:
            assert [r.status_code for r in await asyncio.gather(*blocked)] == [201, 201]
            # retried after the overload, the refused sale happens exactly once
            retried = await sale(refused_id)
            assert retried.status_code == 201, retried.text
            replay = await sale(refused_id)
            assert replay.status_code == 200 and replay.content == retried.content
            assert (
                await admin.fetchval(
                    "SELECT count(*) FROM sales WHERE id = $1", uuid.UUID(refused_id)
                )
                == 1
            )
            assert (await api.stock(bar))[product] == 47
        finally:
            await admin.close()


async def test_no_pool_deadlock_between_a_held_connection_and_the_membership_lookup(
    database_url: str,
) -> None:
    """A request holding its connection must not need a second one for the membership check
    (a cold cache): with the pool's every connection so held, all would wait for each other."""
    settings = make_settings(database_url, pool_min_size=2, pool_max_size=2, max_in_flight_writes=8)
    async with (
        start_server(settings) as server,
        httpx.AsyncClient(base_url=server.base_url, timeout=30) as http,
    ):
        api = Api(http, server)
        bar, product = await _bar_with_product(api)
        staff = [await api.member(bar, "staff") for _ in range(8)]  # 8 cold cache entries
        answers = await asyncio.gather(*(api.sell(bar, {product: 1}, user=u) for u in staff))
        assert [r.status_code for r in answers] == [201] * 8, [r.text for r in answers]
