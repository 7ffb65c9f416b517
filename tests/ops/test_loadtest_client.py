"""The load tester's client behaves like the PWA, against a scripted real websocket server:
a seq jump re-subscribes with the last seq (and the replay fills the hole, counted once), a
1012 close reconnects and subscribes with `since`, a seq at or below the last one outside a
re-subscribe is a duplicate."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from websockets.asyncio.server import ServerConnection, serve

from bartender.loadtest.client import ClientStats, Endpoint, LiveClient

BAR = "b1"


def stock(seq: int) -> str:
    return json.dumps({"type": "stock", "bar_id": BAR, "seq": seq, "changes": []})


MODE = json.dumps({"type": "mode", "bar_id": BAR, "mode": "push", "poll_interval_ms": 5000})


async def test_gap_resubscribes_then_1012_reconnects_with_since() -> None:
    subscribes: list[Any] = []  # the `since` of every subscribe, in order
    sessions = 0

    async def handler(ws: ServerConnection) -> None:
        nonlocal sessions
        sessions += 1
        async for raw in ws:
            message = json.loads(raw)
            if message["type"] == "auth":
                await ws.send(json.dumps({"type": "ready", "user_id": "u", "server_time": ""}))
            elif message["type"] == "subscribe":
                subscribes.append(message["since"])
                if len(subscribes) == 1:  # first: snapshot, live 6, then 8 (7 went missing)
                    await ws.send(json.dumps({"type": "snapshot", "bar_id": BAR, "seq": 5}))
                    await ws.send(MODE)
                    await ws.send(stock(6))
                    await ws.send(stock(8))
                elif len(subscribes) == 2:  # the re-subscribe: replay 7, 8; then a restart
                    await ws.send(stock(7))
                    await ws.send(stock(8))
                    await ws.send(MODE)
                    await ws.send(stock(6))  # a duplicate outside any re-subscribe
                    await ws.close(1012, "restarting")
                else:  # after reconnecting: nothing missed, live 9
                    await ws.send(MODE)
                    await ws.send(stock(9))

    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        stats = ClientStats()
        nine = asyncio.Event()
        client = LiveClient(
            BAR,
            Endpoint(f"ws://127.0.0.1:{port}/", "", "t"),
            stats,
            None,
            False,
            on_stock=lambda _bar, seq, _at: seq == 9 and nine.set(),
        )
        task = asyncio.create_task(client.run(time.monotonic() + 20))
        async with asyncio.timeout(10):
            await nine.wait()
        await client.stop()
        await task
    assert subscribes == [None, 6, 8]  # first, after the gap, after the 1012 reconnect
    assert sessions == 2 and stats.reconnects == 1
    assert stats.gaps == 1 and stats.duplicated == 1
    assert stats.deliveries == 4  # 6, 7, 8, 9: each once
