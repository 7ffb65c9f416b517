"""`/api/ready` means "can serve": Redis down is degraded (200), PostgreSQL down is not ready
(issue 12.20: a health-checking load balancer must not take every instance out because the
accelerator is gone)."""

from __future__ import annotations

import httpx

from tests.ops.conftest import RedisServer
from tests.support import make_settings, start_server


async def test_ready_stays_200_while_redis_is_down_and_says_degraded(
    database_url: str, redis_server: RedisServer
) -> None:
    settings = make_settings(database_url, redis_url=redis_server.url)
    async with (
        start_server(settings) as running,
        httpx.AsyncClient(base_url=running.base_url) as http,
    ):
        ready = await http.get("/api/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["status"] == "ok" and ready.json()["degraded"] == []

        redis_server.stop()
        ready = await http.get("/api/ready")
        assert ready.status_code == 200, ready.text
        body = ready.json()
        assert body["status"] == "degraded" and body["degraded"] == ["redis"]
        assert body["checks"]["postgres"] == "ok"
        assert body["checks"]["redis"].startswith("error")

        # (coming back to "ok" once Redis returns is tested in tests/realtime/test_cluster.py;
        # restarting redis-server on the same port here raced with other processes taking it)


async def test_ready_is_503_when_postgresql_does_not_answer(database_url: str) -> None:
    settings = make_settings(database_url)
    async with (
        start_server(settings) as running,
        httpx.AsyncClient(base_url=running.base_url) as http,
    ):
        assert (await http.get("/api/ready")).status_code == 200
        await running.rt.pool.close()  # every query now fails: this process cannot serve
        ready = await http.get("/api/ready")
        assert ready.status_code == 503, ready.text
        assert ready.json()["status"] == "unavailable"
        assert (await http.get("/api/health")).status_code == 200  # alive all the same
