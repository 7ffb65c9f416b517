"""What the hub reports to the metrics (`Hub.stats`), and `StockFeed.caught_up`."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from bartender.observe.metrics import NOTIFY_LAG
from tests.realtime.wsclient import WsClient
from tests.support import Api, RunningServer, make_settings, start_server


async def test_stats_count_sockets_bars_over_the_threshold_and_modes(database_url: str) -> None:
    async with (
        start_server(make_settings(database_url, ws_bar_alert_sockets=2)) as running,
        httpx.AsyncClient(base_url=running.base_url) as http,
    ):
        api = Api(http, running)
        busy, quiet = await api.bar(), await api.bar()
        hub = running.rt.hub
        assert hub is not None
        assert hub.stats() == {
            "connections": 0,
            "max_bar_connections": 0,
            "bars_over_threshold": 0,
            "bars_push": 0,
            "bars_poll": 0,
            "send_queue_depth_max": 0,
        }
        sockets = [await WsClient.ready(running.ws_url, busy.owner.access_token) for _ in range(3)]
        for ws in sockets:
            await ws.subscribe(busy.id)
        idle = await WsClient.ready(running.ws_url, quiet.owner.access_token)
        await idle.subscribe(quiet.id)
        await idle.send({"type": "ping", "t": 0})  # a round trip: its subscribe is applied
        await idle.recv()
        r = await http.put(
            f"/api/bars/{quiet.id}/live-mode", headers=quiet.owner.headers, json={"mode": "poll"}
        )
        assert r.status_code == 200
        stats = hub.stats()
        assert stats["connections"] == 4
        assert stats["max_bar_connections"] == 3
        assert stats["bars_over_threshold"] == 1  # 3 sockets > 2
        assert (stats["bars_push"], stats["bars_poll"]) == (1, 1)
        assert stats["send_queue_depth_max"] >= 0
        for ws in [*sockets, idle]:
            await ws.close()


async def test_caught_up_returns_once_the_transaction_is_applied_and_lag_is_measured(
    api: Api, server: RunningServer
) -> None:
    bar = await api.bar()
    beer = await api.product(bar, stock=5)
    ws = await WsClient.ready(server.ws_url, bar.owner.access_token)
    await ws.subscribe(bar.id)
    lag_before = NOTIFY_LAG._sum.get()  # type: ignore[attr-defined]
    sale = await api.sell(bar, {beer: 1})
    seq = sale.json()["seq"]
    feed = server.rt.feed
    async with asyncio.timeout(5):
        await feed.caught_up(uuid.UUID(bar.id), seq)
    assert (await ws.recv())["seq"] == seq
    assert NOTIFY_LAG._sum.get() > lag_before  # type: ignore[attr-defined]
    with pytest.raises(TimeoutError):  # a seq not committed yet: it waits
        async with asyncio.timeout(0.2):
            await feed.caught_up(uuid.UUID(bar.id), seq + 1)
    await ws.close()
