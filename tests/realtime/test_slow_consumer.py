"""A socket that stops reading costs bounded memory and catches up with a snapshot."""

from __future__ import annotations

import asyncio
import socket

import httpx
from websockets.asyncio.client import connect

from tests.realtime.wsclient import WsClient, check_stream
from tests.support import Api, make_settings, start_server


async def test_a_consumer_that_falls_behind_gets_a_snapshot_and_never_a_gap(
    database_url: str,
) -> None:
    settings = make_settings(database_url, ws_send_queue=8)
    async with (
        start_server(settings) as running,
        httpx.AsyncClient(base_url=running.base_url, timeout=30) as http,
    ):
        api = Api(http, running)
        bar = await api.bar()
        # 50 products sold together: each stock message is ~3 KB, so the socket buffers fill
        products = [await api.product(bar, f"P{i}", stock=1000) for i in range(50)]
        await api.deliver(bar, {p: 1000 for p in products})

        # a reader with a tiny receive window that stops reading
        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.setblocking(False)
        await asyncio.get_running_loop().sock_connect(raw, ("127.0.0.1", running.port))
        conn = await connect(running.ws_url, sock=raw, compression=None, max_queue=1)
        slow = WsClient(conn)
        await slow.send({"type": "auth", "token": bar.owner.access_token})
        assert (await slow.recv())["type"] == "ready"
        (snapshot,), _ = await slow.subscribe(bar.id)
        # a slow network: shrink the server side of that connection's buffers (the kernel
        # would otherwise absorb megabytes before the server notices)
        port = raw.getsockname()[1]
        for protocol in running.server.server_state.connections:
            transport = protocol.transport  # type: ignore[attr-defined]
            if transport.get_extra_info("peername")[1] == port:
                transport.get_extra_info("socket").setsockopt(
                    socket.SOL_SOCKET, socket.SO_SNDBUF, 4096
                )
                transport.set_write_buffer_limits(high=4096)
        brisk = await WsClient.ready(running.ws_url, bar.owner.access_token)
        await brisk.subscribe(bar.id)

        hub = running.rt.hub
        assert hub is not None
        sales = 0
        while hub.overflows == 0 and sales < 200:
            r = await api.sell(bar, {p: 1 for p in products})
            assert r.status_code == 201
            sales += 1
        assert hub.overflows > 0, "the slow socket never fell behind"
        assert all(len(c.queue or ()) <= 8 + len(c.subs) for c in hub.clients)  # bounded
        final = snapshot["seq"] + sales

        # the brisk socket was not slowed down: it has everything, in order
        fast: list[dict] = []
        while not fast or fast[-1].get("seq") != final:
            fast.append(await brisk.recv(10))
        assert [m["type"] for m in fast] == ["stock"] * sales
        assert check_stream(fast, snapshot["seq"]) == final

        # the slow one reads again: in order, no gap, a snapshot where it fell behind
        received: list[dict] = []
        while not received or received[-1].get("seq") != final:
            received.append(await slow.recv(10))
        assert any(m["type"] == "snapshot" for m in received)
        assert check_stream(received, snapshot["seq"]) == final
        expected = {p: 1000 + 1000 - sales for p in products}
        last_snapshot = [m for m in received if m["type"] == "snapshot"][-1]
        later = [m for m in received[received.index(last_snapshot) + 1 :] if m["type"] == "stock"]
        stock = {s["product_id"]: s["stock"] for s in last_snapshot["stock"]}
        for message in later:
            stock.update({c["product_id"]: c["stock"] for c in message["changes"]})
        assert stock == expected
        await slow.close()
        await brisk.close()
        raw.close()
