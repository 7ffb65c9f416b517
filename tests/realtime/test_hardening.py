"""What outside testing broke on /ws (issue 12: items 2, 3, 7, 15, 16, 17), each over a real
socket against a real server."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.realtime.wsclient import WsClient
from tests.support import Api, RunningServer, drop_listen, make_settings, start_server

DEEP = '{"type":"ping","t":' + "[" * 1000 + "]" * 1000 + "}"


# -- 12.7: deeply nested JSON ------------------------------------------------------------------


async def test_deeply_nested_json_is_a_bad_message_and_4401_before_auth(
    api: Api, server: RunningServer
) -> None:
    before_auth = await WsClient.open(server.ws_url)
    await before_auth.send(DEEP)
    assert await before_auth.closed_with() == 4401
    user = await api.user()
    ws = await WsClient.ready(server.ws_url, user.access_token)
    await ws.send(DEEP)
    assert await ws.recv() == {"type": "error", "code": "bad_message"}
    await ws.send({"type": "ping", "t": 1})
    assert await ws.recv() == {"type": "pong", "t": 1}
    await ws.close()


# -- 12.15: frame size cap -----------------------------------------------------------------------


async def test_a_frame_over_the_cap_closes_1009_before_and_after_auth(database_url: str) -> None:
    settings = make_settings(database_url, ws_max_frame_bytes=4096)
    async with (
        start_server(settings) as running,
        httpx.AsyncClient(base_url=running.base_url) as http,
    ):
        big = '{"type":"ping","t":"' + "x" * 5000 + '"}'
        anonymous = await WsClient.open(running.ws_url)
        await anonymous.send(big)
        assert await anonymous.closed_with() == 1009
        user = await Api(http, running).user()
        ws = await WsClient.ready(running.ws_url, user.access_token)
        await ws.send('{"type":"ping","t":"' + "x" * 3000 + '"}')  # under the cap: fine
        assert (await ws.recv())["type"] == "pong"
        await ws.send(big.encode())  # binary frames too
        assert await ws.closed_with() == 1009


# -- 12.16: forbidden answers count against the bad-message budget --------------------------------


async def test_probing_bars_one_is_not_a_member_of_closes_1008_after_20(
    api: Api, server: RunningServer
) -> None:
    stranger = await api.user("Stranger")
    ws = await WsClient.ready(server.ws_url, stranger.access_token)
    for _ in range(20):
        bar_id = str(uuid.uuid4())
        await ws.send({"type": "subscribe", "bar_id": bar_id, "since": None})
        assert await ws.recv() == {"type": "error", "code": "forbidden", "bar_id": bar_id}
    await ws.send({"type": "subscribe", "bar_id": str(uuid.uuid4()), "since": None})
    assert await ws.closed_with() == 1008  # the 21st in a minute


# -- 12.3: a socket lives as long as its token and its login -------------------------------------


async def test_the_socket_closes_4401_when_its_access_token_expires(database_url: str) -> None:
    async with (
        start_server(make_settings(database_url, access_token_ttl_s=2)) as running,
        httpx.AsyncClient(base_url=running.base_url) as http,
    ):
        api = Api(http, running)
        bar = await api.bar()
        ws = await WsClient.ready(running.ws_url, bar.owner.access_token)
        await ws.subscribe(bar.id)
        started = asyncio.get_running_loop().time()
        assert await ws.closed_with(within=5) == 4401
        assert asyncio.get_running_loop().time() - started > 0.5


async def test_logout_closes_that_logins_sockets_4401_and_not_the_others(
    api: Api, server: RunningServer
) -> None:
    bar = await api.bar()
    other_login = await api.login(bar.owner.email)  # the same account on another phone
    ws = await WsClient.ready(server.ws_url, bar.owner.access_token)
    other = await WsClient.ready(server.ws_url, other_login.access_token)
    await ws.subscribe(bar.id)
    await other.subscribe(bar.id)
    r = await api.http.post("/api/auth/logout", json={"refresh_token": bar.owner.refresh_token})
    assert r.status_code == 204
    assert await ws.closed_with() == 4401
    await other.send({"type": "ping", "t": "still"})
    assert await other.recv() == {"type": "pong", "t": "still"}
    await other.close()


async def test_a_reused_refresh_token_revokes_the_login_and_closes_its_sockets(
    database_url: str,
) -> None:
    async with (
        start_server(make_settings(database_url, refresh_grace_s=0)) as running,
        httpx.AsyncClient(base_url=running.base_url) as http,
    ):
        api = Api(http, running)
        user = await api.user()
        ws = await WsClient.ready(running.ws_url, user.access_token)
        first = await http.post("/api/auth/refresh", json={"refresh_token": user.refresh_token})
        assert first.status_code == 200
        refreshed = await WsClient.ready(running.ws_url, first.json()["access_token"])
        # the spent token again, after the grace: the whole login is revoked
        reuse = await http.post("/api/auth/refresh", json={"refresh_token": user.refresh_token})
        assert reuse.status_code == 401
        assert await ws.closed_with() == 4401
        assert await refreshed.closed_with() == 4401


# -- 12.2: membership re-checked after a LISTEN reconnect ------------------------------------------


async def test_a_member_removed_while_listen_reconnects_stops_receiving(database_url: str) -> None:
    settings = make_settings(database_url, listen_retry_s=1.0)  # down long enough to act
    async with (
        start_server(settings) as running,
        httpx.AsyncClient(base_url=running.base_url) as http,
    ):
        api = Api(http, running)
        bar = await api.bar()
        beer = await api.product(bar, stock=10)
        staff = await api.member(bar, "staff")
        ws = await WsClient.ready(running.ws_url, staff.access_token)
        await ws.subscribe(bar.id)
        await drop_listen(running.rt)
        # the removal's NOTIFY is sent while nobody listens here: lost for this instance
        r = await http.delete(f"/api/bars/{bar.id}/staff/{staff.id}", headers=bar.owner.headers)
        assert r.status_code == 204
        assert not running.rt.listener.live
        assert await ws.recv(5) == {"type": "error", "code": "forbidden", "bar_id": bar.id}
        assert (await api.sell(bar, {beer: 1})).status_code == 201
        await ws.nothing_for(0.5)
        await ws.close()


# -- 12.17: the per-bar cap is exact when sockets arrive together --------------------------------


async def test_sockets_arriving_together_never_exceed_the_bar_cap(database_url: str) -> None:
    cap, arriving = 5, 20
    async with (
        start_server(make_settings(database_url, ws_max_connections_per_bar=cap)) as running,
        httpx.AsyncClient(base_url=running.base_url) as http,
    ):
        bar = await Api(http, running).bar()
        sockets = [await WsClient.ready(running.ws_url, bar.owner.access_token) for _ in range(20)]

        async def subscribe(ws: WsClient) -> str:
            await ws.send({"type": "subscribe", "bar_id": bar.id, "since": None})
            try:
                return (await ws.recv_until("mode"))[1]["type"]
            except Exception:
                return "closed"

        outcomes = await asyncio.gather(*(subscribe(ws) for ws in sockets))
        assert outcomes.count("mode") == cap, outcomes
        hub = running.rt.hub
        assert hub is not None and hub.connections(uuid.UUID(bar.id)) == cap
        assert len(outcomes) == arriving
        for ws in sockets:
            await ws.close()


@pytest.mark.parametrize("ws_impl", ["websockets-sansio", "wsproto"])
async def test_real_serve_caps_frames_in_the_server_itself(database_url: str, ws_impl: str) -> None:
    """`bartender serve` hands the cap to uvicorn (the frame never reaches memory whole), with
    either websocket implementation (BARTENDER_WS_IMPL); a normal conversation works on both."""
    from tests.realtime.conftest import spawn_server

    process = await spawn_server(
        database_url,
        None,
        BARTENDER_WS_MAX_FRAME_BYTES="2048",
        BARTENDER_FORECAST_WORKERS="0",
        BARTENDER_WS_IMPL=ws_impl,
    )
    try:
        async with httpx.AsyncClient(base_url=process.base_url) as http:
            user = await Api(http, None).user()  # type: ignore[arg-type]
        ws = await WsClient.ready(process.ws_url, user.access_token)
        await ws.send({"type": "ping", "t": ws_impl})
        assert await ws.recv() == {"type": "pong", "t": ws_impl}
        await ws.close()
        async with connect(process.ws_url, compression=None, max_size=None) as conn:
            await conn.send("x" * 10_000)
            try:
                await asyncio.wait_for(conn.recv(), 5)
            except Exception:
                pass
            assert conn.close_code == 1009
            assert conn.close_reason != "frame too large"  # uvicorn's words, not the hub's
    finally:
        process.proc.terminate()
        process.proc.wait(10)
