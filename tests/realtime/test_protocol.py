"""CONTRACT.md "Live stock over WebSocket", rule by rule, over a real socket."""

from __future__ import annotations

import asyncio
import datetime
import uuid

from bartender.settings import Settings
from tests.realtime.wsclient import WsClient, check_stream
from tests.support import Api, RunningServer, drop_listen, make_settings, start_server


def stock_of(messages: list[dict]) -> list[int]:
    return [m["seq"] for m in messages if m["type"] == "stock"]


# -- rule 1: auth ---------------------------------------------------------------------------


async def test_auth_answers_ready_with_user_and_server_time(
    api: Api, server: RunningServer
) -> None:
    user = await api.user()
    ws = await WsClient.open(server.ws_url)
    await ws.send({"type": "auth", "token": user.access_token})
    ready = await ws.recv()
    assert ready["type"] == "ready"
    assert ready["user_id"] == user.id
    sent = datetime.datetime.fromisoformat(ready["server_time"].replace("Z", "+00:00"))
    assert abs((datetime.datetime.now(datetime.UTC) - sent).total_seconds()) < 5
    await ws.close()


NOT_AN_AUTH = [
    {"type": "auth", "token": "not-a-token"},
    {"type": "auth"},
    {"type": "ping", "t": 1},
    {"type": "subscribe", "bar_id": str(uuid.uuid4()), "since": None},
    "not json",
    b"\x00binary",
]


async def test_anything_but_a_good_auth_first_closes_4401(server: RunningServer) -> None:
    for first in NOT_AN_AUTH:
        ws = await WsClient.open(server.ws_url)
        await ws.send(first)
        assert await ws.closed_with() == 4401, first


async def test_a_refresh_token_is_not_an_access_token(api: Api, server: RunningServer) -> None:
    user = await api.user()
    ws = await WsClient.open(server.ws_url)
    await ws.send({"type": "auth", "token": user.refresh_token})
    assert await ws.closed_with() == 4401


async def test_no_auth_in_time_closes_4408(database_url: str) -> None:
    assert Settings().ws_auth_timeout_s == 5.0  # the contract's 5 s; shortened below
    async with start_server(make_settings(database_url, ws_auth_timeout_s=0.3)) as running:
        ws = await WsClient.open(running.ws_url)
        started = asyncio.get_running_loop().time()
        assert await ws.closed_with() == 4408
        assert asyncio.get_running_loop().time() - started >= 0.25


# -- rule 2: subscribe ----------------------------------------------------------------------


async def test_subscribe_without_since_sends_a_snapshot_of_every_active_product_then_mode(
    api: Api, server: RunningServer
) -> None:
    bar = await api.bar()
    beer = await api.product(bar, "Flag", stock=12)
    empty = await api.product(bar, "Castel", stock=0)
    retired = await api.product(bar, "Old", stock=3)
    r = await api.http.patch(
        f"/api/bars/{bar.id}/products/{retired}", headers=bar.owner.headers, json={"active": False}
    )
    assert r.status_code == 200
    ws = await WsClient.ready(server.ws_url, bar.owner.access_token)
    replay, mode = await ws.subscribe(bar.id)
    assert [m["type"] for m in replay] == ["snapshot"]
    snapshot = replay[0]
    assert snapshot["bar_id"] == bar.id and snapshot["seq"] == await api.seq(bar)
    assert sorted(snapshot["stock"], key=lambda s: s["product_id"]) == sorted(
        [{"product_id": beer, "stock": 12}, {"product_id": empty, "stock": 0}],
        key=lambda s: s["product_id"],
    )
    assert mode["bar_id"] == bar.id and mode["mode"] == "push"
    assert 1000 <= mode["poll_interval_ms"] <= 60000
    await ws.close()


async def test_subscribe_with_since_replays_the_missed_stock_messages_in_order(
    api: Api, server: RunningServer
) -> None:
    bar = await api.bar()
    beer = await api.product(bar, stock=50)
    since = await api.seq(bar)
    for _ in range(5):
        assert (await api.sell(bar, {beer: 2})).status_code == 201
    ws = await WsClient.ready(server.ws_url, bar.owner.access_token)
    replay, mode = await ws.subscribe(bar.id, since=since)
    assert [m["type"] for m in replay] == ["stock"] * 5
    assert stock_of(replay) == list(range(since + 1, since + 6))
    assert [m["changes"] for m in replay][-1] == [{"product_id": beer, "stock": 40}]
    assert all(m["cause"] == "sale" for m in replay)
    assert mode["mode"] == "push"
    # caught up: no replay at all
    await ws.send({"type": "unsubscribe", "bar_id": bar.id})
    replay, _ = await ws.subscribe(bar.id, since=since + 5)
    assert replay == []
    await ws.close()


async def test_since_older_than_the_history_gets_one_snapshot(database_url: str) -> None:
    import httpx

    async with (
        start_server(make_settings(database_url, feed_history=3)) as running,
        httpx.AsyncClient(base_url=running.base_url) as http,
    ):
        api = Api(http, running)
        bar = await api.bar()
        beer = await api.product(bar, stock=50)
        ws = await WsClient.ready(running.ws_url, bar.owner.access_token)
        await ws.subscribe(bar.id)  # warms this process's history of the bar
        for _ in range(6):
            assert (await api.sell(bar, {beer: 1})).status_code == 201
        seq = await api.seq(bar)
        await ws.recv_until("stock")
        other = await WsClient.ready(running.ws_url, bar.owner.access_token)
        replay, _ = await other.subscribe(bar.id, since=1)
        assert [m["type"] for m in replay] == ["snapshot"]
        assert replay[0]["seq"] == seq and replay[0]["stock"] == [{"product_id": beer, "stock": 44}]
        third = await WsClient.ready(running.ws_url, bar.owner.access_token)
        replay, _ = await third.subscribe(bar.id, since=seq - 2)  # still in the history
        assert stock_of(replay) == [seq - 1, seq]
        # subscribing again replays from the `since` given, even what this socket was sent
        # (the client may have lost it: issue 12.14)
        replay, _ = await third.subscribe(bar.id, since=seq - 2)
        assert stock_of(replay) == [seq - 1, seq]
        for client in (ws, other, third):
            await client.close()


async def test_since_ahead_of_the_server_is_answered_by_a_snapshot_never_older_messages(
    api: Api, server: RunningServer
) -> None:
    bar = await api.bar()
    beer = await api.product(bar, stock=5)
    seq = await api.seq(bar)
    ws = await WsClient.ready(server.ws_url, bar.owner.access_token)
    replay, _ = await ws.subscribe(bar.id, since=seq + 100)
    assert [m["type"] for m in replay] == ["snapshot"]
    assert replay[0]["seq"] == seq
    assert (await api.sell(bar, {beer: 1})).status_code == 201
    live = await ws.recv()
    assert live["type"] == "stock" and live["seq"] == seq + 1
    await ws.close()


async def test_subscribing_again_replaces_the_subscription_without_doubling(
    api: Api, server: RunningServer
) -> None:
    bar = await api.bar()
    beer = await api.product(bar, stock=20)
    ws = await WsClient.ready(server.ws_url, bar.owner.access_token)
    await ws.subscribe(bar.id)
    seq = await api.seq(bar)
    replay, _ = await ws.subscribe(bar.id, since=seq)
    assert replay == []
    assert (await api.sell(bar, {beer: 1})).status_code == 201
    assert (await ws.recv())["seq"] == seq + 1
    await ws.nothing_for(0.3)
    await ws.close()


async def test_forbidden_subscribe_keeps_the_socket_open(api: Api, server: RunningServer) -> None:
    bar = await api.bar()
    stranger = await api.user("Stranger")
    ws = await WsClient.ready(server.ws_url, stranger.access_token)
    for bar_id in (bar.id, str(uuid.uuid4())):  # someone else's bar, a bar that does not exist
        await ws.send({"type": "subscribe", "bar_id": bar_id, "since": None})
        assert await ws.recv() == {"type": "error", "code": "forbidden", "bar_id": bar_id}
    await ws.send({"type": "ping", "t": "still here"})
    assert await ws.recv() == {"type": "pong", "t": "still here"}
    # no subscription was made: a sale in that bar reaches nobody here
    beer = await api.product(bar, stock=3)
    assert (await api.sell(bar, {beer: 1})).status_code == 201
    await ws.nothing_for(0.3)
    await ws.close()


async def test_staff_may_subscribe_until_removed_from_the_bar(
    api: Api, server: RunningServer
) -> None:
    bar = await api.bar()
    beer = await api.product(bar, stock=5)
    staff = await api.member(bar, "staff")
    ws = await WsClient.ready(server.ws_url, staff.access_token)
    replay, mode = await ws.subscribe(bar.id)
    assert replay[0]["type"] == "snapshot" and mode["type"] == "mode"
    r = await api.http.delete(f"/api/bars/{bar.id}/staff/{staff.id}", headers=bar.owner.headers)
    assert r.status_code == 204
    assert await ws.recv() == {"type": "error", "code": "forbidden", "bar_id": bar.id}
    assert (await api.sell(bar, {beer: 1})).status_code == 201
    await ws.nothing_for(0.3)
    await ws.send({"type": "subscribe", "bar_id": bar.id, "since": None})
    assert await ws.recv() == {"type": "error", "code": "forbidden", "bar_id": bar.id}
    await ws.close()


# -- rule 3: live stock ------------------------------------------------------------------------


async def test_every_stock_transaction_is_one_message_with_seq_plus_one_and_its_cause(
    api: Api, server: RunningServer
) -> None:
    bar = await api.bar()
    beer = await api.product(bar, "Flag", stock=10)
    soda = await api.product(bar, "Coca", stock=10)
    ws = await WsClient.ready(server.ws_url, bar.owner.access_token)
    (snapshot,), _ = await ws.subscribe(bar.id)
    sale = await api.sell(bar, {beer: 2, soda: 1})
    assert sale.status_code == 201
    await api.deliver(bar, {soda: 5})
    r = await api.http.post(
        f"/api/bars/{bar.id}/sales/{sale.json()['id']}/void",
        headers=bar.owner.headers,
        json={"reason": "mistake"},
    )
    assert r.status_code == 200
    r = await api.http.post(
        f"/api/bars/{bar.id}/stock-counts",
        headers=bar.owner.headers,
        json={"id": str(uuid.uuid4()), "counts": [{"product_id": beer, "counted": 7}]},
    )
    assert r.status_code == 201
    messages = [await ws.recv() for _ in range(4)]
    assert [m["seq"] for m in messages] == [snapshot["seq"] + i for i in range(1, 5)]
    assert [m["cause"] for m in messages] == ["sale", "delivery", "void", "count"]
    assert all(m["type"] == "stock" and m["bar_id"] == bar.id for m in messages)
    assert sorted(messages[0]["changes"], key=lambda c: c["stock"]) == sorted(
        [{"product_id": beer, "stock": 8}, {"product_id": soda, "stock": 9}],
        key=lambda c: c["stock"],
    )
    assert messages[1]["changes"] == [{"product_id": soda, "stock": 14}]
    assert messages[3]["changes"] == [{"product_id": beer, "stock": 7}]
    await ws.nothing_for(0.2)
    await ws.close()


async def test_messages_stay_in_order_without_gap_or_duplicate_while_replaying(
    api: Api, server: RunningServer
) -> None:
    """NOTIFYs keep arriving while clients subscribe with `since` again and again."""
    bar = await api.bar()
    beer = await api.product(bar, stock=1000)
    staff = [await api.member(bar, "staff") for _ in range(4)]
    start = await api.seq(bar)
    sales = 120

    async def seller(user: object) -> None:
        for _ in range(sales // len(staff)):
            assert (await api.sell(bar, {beer: 1}, user=user)).status_code == 201  # type: ignore[arg-type]

    async def watcher() -> list[int]:
        ws = await WsClient.ready(server.ws_url, bar.owner.access_token)
        seen: list[int] = []
        replay, _ = await ws.subscribe(bar.id, since=start)
        seen += stock_of(replay)
        while not seen or seen[-1] < start + sales:
            if len(seen) % 7 == 3:  # re-subscribe from what we have, mid-stream
                since = seen[-1]
                replay, _ = await ws.subscribe(bar.id, since=since)
                got = stock_of(replay)
                # frames already in flight when the server took the re-subscribe continue
                # the old stream; the replay then starts again right after `since` (12.14)
                restart = max((i for i, s in enumerate(got) if s == since + 1), default=0)
                in_flight, replayed = got[:restart], got[restart:]
                assert in_flight == list(range(since + 1, since + 1 + len(in_flight)))
                assert replayed == list(range(since + 1, since + 1 + len(replayed)))
                assert len(replayed) >= len(in_flight)
                seen += replayed
                continue
            message = await ws.recv(10)
            if message["type"] == "stock":
                seen.append(message["seq"])
        await ws.close()
        return seen

    results = await asyncio.gather(*(seller(u) for u in staff), watcher(), watcher())
    for seen in results[-2:]:
        assert seen == list(range(start + 1, start + sales + 1))


async def test_listen_connection_loss_is_caught_up_from_the_database(
    api: Api, server: RunningServer
) -> None:
    bar = await api.bar()
    beer = await api.product(bar, stock=100)
    ws = await WsClient.ready(server.ws_url, bar.owner.access_token)
    (snapshot,), _ = await ws.subscribe(bar.id)
    for i in range(20):
        if i in (5, 12):
            await drop_listen(server.rt)
        assert (await api.sell(bar, {beer: 1})).status_code == 201
    final = snapshot["seq"] + 20
    received: list[dict] = []
    while not received or received[-1].get("seq") != final:
        received.append(await ws.recv(10))
    assert check_stream(received, snapshot["seq"]) == final
    # the resync came from the ledger: every sale is there as a message
    assert stock_of(received) == list(range(snapshot["seq"] + 1, final + 1))
    await ws.close()


async def test_changes_made_while_listen_is_down_arrive_without_waiting_for_another_sale(
    api: Api, server: RunningServer
) -> None:
    bar = await api.bar()
    beer = await api.product(bar, stock=10)
    ws = await WsClient.ready(server.ws_url, bar.owner.access_token)
    (snapshot,), _ = await ws.subscribe(bar.id)
    await drop_listen(server.rt)
    for _ in range(3):  # committed while nobody listens: their NOTIFYs are lost for good
        assert (await api.sell(bar, {beer: 1})).status_code == 201
    received: list[dict] = []
    while not received or received[-1].get("seq") != snapshot["seq"] + 3:
        received.append(await ws.recv(10))
    assert check_stream(received, snapshot["seq"]) == snapshot["seq"] + 3
    await ws.close()


# -- rule 4: mode after subscribe (the adaptive switch is in test_adaptive.py) -----------------


async def test_polling_endpoint_and_mode_message_agree(api: Api, server: RunningServer) -> None:
    bar = await api.bar()
    await api.product(bar, stock=1)
    ws = await WsClient.ready(server.ws_url, bar.owner.access_token)
    _, mode = await ws.subscribe(bar.id)
    polled = (await api.http.get(f"/api/bars/{bar.id}/stock", headers=bar.owner.headers)).json()
    assert (polled["mode"], polled["poll_interval_ms"]) == (mode["mode"], mode["poll_interval_ms"])
    assert polled["catalog_seq"] == mode["catalog_seq"]
    await ws.close()


# -- rule 5: unsubscribe, ping ---------------------------------------------------------------


async def test_unsubscribe_stops_the_messages(api: Api, server: RunningServer) -> None:
    bar = await api.bar()
    beer = await api.product(bar, stock=10)
    ws = await WsClient.ready(server.ws_url, bar.owner.access_token)
    await ws.subscribe(bar.id)
    await ws.send({"type": "unsubscribe", "bar_id": bar.id})
    assert (await api.sell(bar, {beer: 1})).status_code == 201
    await ws.nothing_for(0.3)
    await ws.send({"type": "unsubscribe", "bar_id": bar.id})  # twice: harmless
    await ws.send({"type": "ping", "t": 1})
    assert await ws.recv() == {"type": "pong", "t": 1}
    await ws.close()


async def test_ping_echoes_t_whatever_it_is(api: Api, server: RunningServer) -> None:
    user = await api.user()
    ws = await WsClient.ready(server.ws_url, user.access_token)
    for t in (0, "abc", None, [1, {"x": 2}], {"nested": {"deep": True}}, 1.5):
        await ws.send({"type": "ping", "t": t})
        assert await ws.recv() == {"type": "pong", "t": t}
    await ws.send({"type": "ping"})  # no t: null
    assert await ws.recv() == {"type": "pong", "t": None}
    await ws.close()


# -- rule 6: bad messages ------------------------------------------------------------------------

BAD_FRAMES = [
    b"\x01\x02binary",
    "not json",
    '{"no": "type"}',
    '{"type": "dance"}',
    '{"type": "subscribe", "bar_id": "not-a-uuid", "since": null}',
    f'{{"type": "subscribe", "bar_id": "{uuid.uuid4()}", "since": -1}}',
    '{"type": "unsubscribe"}',
    '{"type": "ping", "t": 1, "extra": true}',
    '{"type": "auth", "token": "again"}',
    "[]",
]


async def test_bad_messages_answer_bad_message_and_keep_the_socket(
    api: Api, server: RunningServer
) -> None:
    user = await api.user()
    ws = await WsClient.ready(server.ws_url, user.access_token)
    for frame in BAD_FRAMES:
        await ws.send(frame)
        assert await ws.recv() == {"type": "error", "code": "bad_message"}, frame
    await ws.send({"type": "ping", "t": "ok"})
    assert await ws.recv() == {"type": "pong", "t": "ok"}
    await ws.close()


async def test_more_than_20_bad_frames_in_a_minute_closes_1008(
    api: Api, server: RunningServer
) -> None:
    user = await api.user()
    ws = await WsClient.ready(server.ws_url, user.access_token)
    for _ in range(20):
        await ws.send("garbage")
        assert (await ws.recv())["code"] == "bad_message"
    await ws.send({"type": "ping", "t": 20})  # good frames do not count
    assert (await ws.recv())["type"] == "pong"
    await ws.send("the 21st")
    assert await ws.closed_with() == 1008


# -- rule 7: 4429 and 1012 -------------------------------------------------------------------------


async def test_too_many_connections_on_a_bar_closes_4429(database_url: str) -> None:
    import httpx

    async with (
        start_server(make_settings(database_url, ws_max_connections_per_bar=2)) as running,
        httpx.AsyncClient(base_url=running.base_url) as http,
    ):
        api = Api(http, running)
        bar = await api.bar()
        other_bar = await api.bar(bar.owner)
        first = await WsClient.ready(running.ws_url, bar.owner.access_token)
        second = await WsClient.ready(running.ws_url, bar.owner.access_token)
        third = await WsClient.ready(running.ws_url, bar.owner.access_token)
        await first.subscribe(bar.id)
        await second.subscribe(bar.id)
        await second.subscribe(bar.id)  # re-subscribing is not another connection
        await third.subscribe(other_bar.id)  # another bar: its own count
        await third.send({"type": "subscribe", "bar_id": bar.id, "since": None})
        assert await third.closed_with() == 4429
        await first.close()  # a place frees up
        fourth = await WsClient.ready(running.ws_url, bar.owner.access_token)
        _, mode = await fourth.subscribe(bar.id)
        assert mode["type"] == "mode"
        await second.close()
        await fourth.close()


async def test_graceful_shutdown_closes_every_socket_with_1012(database_url: str) -> None:
    import httpx

    async with start_server(make_settings(database_url)) as running:
        async with httpx.AsyncClient(base_url=running.base_url) as http:
            api = Api(http, running)
            bar = await api.bar()
        sockets = [await WsClient.ready(running.ws_url, bar.owner.access_token) for _ in range(3)]
        await sockets[0].subscribe(bar.id)
        running.server.should_exit = True
        codes = await asyncio.gather(*(ws.closed_with(10) for ws in sockets))
    assert codes == [1012, 1012, 1012]
