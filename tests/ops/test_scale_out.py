"""Scale-out proven here (issue 17): two `bartender serve` processes, a real Redis and one
PostgreSQL behind Debian's nginx running the shipped deploy/nginx.conf. Websocket clients
(the load tester's PWA-like clients) and a steady sale rate flow through nginx while one
instance is restarted with SIGTERM, then the other is killed with -9 and restarted, then the
first again. Afterwards: every confirmed sale is in the ledger exactly once and nothing else
is; every client followed its bar to the last seq with no gap and no duplicate (a snapshot
counts, as the contract allows); failed sale requests were retried to success; a handful of
502s at most (nginx retries refused connects; a sale sent to a dying process is the client's
to retry, with the same id)."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from bartender.loadtest.client import Endpoint
from bartender.loadtest.runner import Run, RunOptions, Stage
from bartender.loadtest.targets import SaleDriver, prepare
from tests.ops.cluster import Nginx
from tests.ops.conftest import RedisServer
from tests.support import ServeProcess

SOCKETS, BARS, RATE = 24, 4, 20.0
HOLD_S = 24.0
MAX_502 = 5


async def _restart(instance: ServeProcess, sig: int) -> float:
    """Stop (SIGTERM or -9) and start again on the same port; seconds it was away."""
    stopped = time.monotonic()
    await asyncio.to_thread(instance.stop, sig)
    instance.start()
    await instance.ready()
    return time.monotonic() - stopped


@pytest.mark.slow
async def test_two_instances_behind_nginx_lose_nothing_through_sigterm_and_kill_9(
    database_url: str, redis_server: RedisServer, tmp_path: Path
) -> None:
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_server.url,
        "BARTENDER_FORECAST_WORKERS": "0",
    }
    a, b = ServeProcess(env), ServeProcess(env)
    nginx = Nginx(tmp_path, (a.port, b.port))
    try:
        a.start()
        b.start()
        await asyncio.gather(a.ready(), b.ready())
        nginx.start()
        await nginx.ready()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
            plan = await prepare(session, nginx.base_url, BARS, stock=10_000)
            driver = SaleDriver(session, plan)
            stages = [
                Stage(2, SOCKETS, 0),
                Stage(0, SOCKETS, RATE),
                Stage(HOLD_S, SOCKETS, RATE),
                Stage(0, SOCKETS, 0),
                Stage(2, SOCKETS, 0),  # every delivery arrives before the sockets close
            ]
            run = Run(
                Endpoint(plan.ws_url, plan.base_url, plan.token),
                list(plan.bars),
                driver,
                session,
                RunOptions(stages, connect_concurrency=24),
            )

            async def chaos() -> list[float]:
                await asyncio.sleep(5)
                away = [await _restart(a, signal.SIGTERM)]
                await asyncio.sleep(3)
                away.append(await _restart(b, signal.SIGKILL))
                await asyncio.sleep(3)
                away.append(await _restart(a, signal.SIGKILL))
                return away

            chaos_task = asyncio.create_task(chaos())
            figures = await run.execute()
            away = await chaos_task
        assert len(away) == 3  # every restart happened while the load ran
        print(
            f"scale-out: {figures['sales_ok']} sales, {figures['sales_retried']} retried, "
            f"statuses {figures['statuses']}, {figures['reconnects']} reconnects, "
            f"{figures['snapshots']} snapshots, instances away {[round(s, 1) for s in away]} s"
        )

        # the ledger: every confirmed sale exactly once, and no sale nobody confirmed
        conn = await asyncpg.connect(database_url)
        try:
            bars = [uuid.UUID(bar) for bar in plan.bars]
            sold = await conn.fetch("SELECT id FROM sales WHERE bar_id = ANY($1)", bars)
            moved = await conn.fetch(
                "SELECT ref_id, count(*) AS n FROM movements"
                " WHERE bar_id = ANY($1) AND kind = 'sale' GROUP BY ref_id",
                bars,
            )
            seqs = await conn.fetch(
                "SELECT bar_id, array_agg(DISTINCT seq ORDER BY seq) AS seqs FROM movements"
                " WHERE bar_id = ANY($1) GROUP BY bar_id",
                bars,
            )
        finally:
            await conn.close()
        confirmed = {uuid.UUID(sale) for sale in driver.committed}
        assert len(driver.committed) == len(confirmed) == figures["sales_ok"]
        assert {r["id"] for r in sold} == confirmed
        assert {r["ref_id"]: r["n"] for r in moved} == dict.fromkeys(confirmed, 1)
        for row in seqs:  # each bar's seq has no hole: one delivery, then one per sale
            assert row["seqs"] == list(range(1, len(row["seqs"]) + 1))

        # the sales: steady, every failed request retried to success, few 502s
        assert figures["sales_ok"] >= RATE * HOLD_S * 0.8, figures
        assert figures["sales_failed"] == 0 and figures["sales_skipped_behind"] == 0, figures
        assert figures["http_502"] <= MAX_502, (figures["statuses"], nginx.errors()[-3000:])

        # the sockets: all followed their bar to the end, once each, in order
        assert figures["connect_failures"] == 0, figures
        assert figures["reconnects"] >= SOCKETS // 2, figures  # the restarts moved clients
        assert figures["lost"] == 0 and figures["duplicated"] == 0, figures
        assert figures["gaps"] == 0, figures
    finally:
        nginx.close()
        a.close()
        b.close()


@pytest.mark.slow
async def test_nginx_retries_a_refused_connect_even_for_a_post(
    database_url: str, tmp_path: Path
) -> None:
    """Issue 12.18: with `proxy_next_upstream_tries 1` every request nginx sent to a stopped
    instance was a 502. Nothing reached that instance, so the shipped config retries the
    other one, POSTs included: no 502 while one of the two is down."""
    live = ServeProcess({"DATABASE_URL": database_url, "BARTENDER_FORECAST_WORKERS": "0"})
    down = ServeProcess({})  # never started: its port refuses connections
    nginx = Nginx(tmp_path, (down.port, live.port))
    try:
        live.start()
        await live.ready()
        nginx.start()
        await nginx.ready()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
            plan = await prepare(session, nginx.base_url, 1, stock=100)
            bar, product = next(iter(plan.bars.items()))
            statuses = []
            for _ in range(20):  # one at a time: least_conn then alternates the two
                async with session.post(
                    f"{nginx.base_url}/api/bars/{bar}/sales",
                    headers={"Authorization": f"Bearer {plan.token}"},
                    json={"id": str(uuid.uuid4()), "items": [{"product_id": product, "qty": 1}]},
                ) as r:
                    statuses.append(r.status)
        assert statuses == [201] * 20, statuses
        assert "Connection refused" in nginx.errors()  # the dead one was tried, and skipped
    finally:
        nginx.close()
        live.close()
        down.close()
