"""Stock-item levels in live messages (issue 15): every `stock` message carries, beside v1.2's
`changes` (products' available quantities), `items`: the level of each stock item it moved,
with the same gapless seq; replays from the ledger and the poll endpoint say the same."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from bartender.live import queries
from tests.core.test_stock_items import item, post, recipe
from tests.realtime.wsclient import WsClient, check_stream
from tests.support import Api, Bar


def levels(message: dict[str, Any]) -> dict[str, int]:
    return {i["stock_item_id"]: i["stock"] for i in message["items"]}


def availability(message: dict[str, Any]) -> dict[str, int]:
    return {c["product_id"]: c["stock"] for c in message["changes"]}


async def whisky_bar(api: Api) -> tuple[Bar, str, str, str]:
    """A bar with whisky in cl (70 per bouteille) sold by the 4 cl glass, and a plain beer."""
    bar = await api.bar()
    whisky = await item(api, bar, "Whisky", "cl", {"bouteille": 70})
    glass = await api.product(bar, "Whisky (verre)", price=2500)
    await recipe(api, bar, glass, {whisky: 4})
    beer = await api.product(bar, "Flag")
    return bar, whisky, glass, beer


async def test_stock_messages_carry_item_levels_with_a_gapless_seq(api: Api) -> None:
    bar, whisky, glass, beer = await whisky_bar(api)
    ws = await WsClient.ready(api.server.ws_url, bar.owner.access_token)
    try:
        seq = await api.seq(bar)
        await ws.subscribe(bar.id, since=seq)
        r = await post(
            api,
            bar,
            "deliveries",
            {"items": [{"stock_item_id": whisky, "pack": "bouteille", "packs": 1}]},
        )
        assert r.status_code == 201, r.text
        await api.deliver(bar, {beer: 24})
        assert (await api.sell(bar, {glass: 2, beer: 3})).status_code == 201
        messages = [await ws.recv() for _ in range(3)]
        assert check_stream(messages, seq) == seq + 3
        delivered, beers, sold = messages
        # v1.2's fields keep their meaning: the products' available quantities
        assert (availability(delivered), levels(delivered)) == ({glass: 17}, {whisky: 70})
        # a product that is its own stock item: its item has the product's id and stock
        assert (availability(beers), levels(beers)) == ({beer: 24}, {beer: 24})
        assert availability(sold) == {glass: 15, beer: 21}
        assert levels(sold) == {whisky: 62, beer: 21}
        for message in messages:
            assert set(message) == {"type", "bar_id", "seq", "cause", "changes", "items"}
            assert all(set(c) == {"product_id", "stock"} for c in message["changes"])

        # a socket replaying the same transactions (from this process's history) sees the same
        late = await WsClient.ready(api.server.ws_url, bar.owner.access_token)
        try:
            replayed, _ = await late.subscribe(bar.id, since=seq)
            assert [m for m in replayed if m["type"] == "stock"] == messages
        finally:
            await late.close()
    finally:
        await ws.close()

    # the ledger (what fills a gap this process never saw) holds the same frames
    rows = await queries.ledger_range(api.server.rt.pool, uuid.UUID(bar.id), seq, seq + 3)
    assert [(r["seq"], r["cause"]) for r in rows] == [(m["seq"], m["cause"]) for m in messages]
    assert [json.loads(r["changes"]) for r in rows] == [m["changes"] for m in messages]
    assert [json.loads(r["items"]) for r in rows] == [m["items"] for m in messages]


async def test_poll_endpoint_gives_net_item_levels(api: Api) -> None:
    bar, whisky, glass, beer = await whisky_bar(api)
    seq = await api.seq(bar)
    await post(api, bar, "deliveries", {"items": [{"stock_item_id": whisky, "units": 140}]})
    assert (await api.sell(bar, {glass: 3})).status_code == 201
    assert (await api.sell(bar, {glass: 1})).status_code == 201
    async with asyncio.timeout(2):
        await api.server.rt.feed.caught_up(uuid.UUID(bar.id), seq + 3)

    r = await api.http.get(
        f"/api/bars/{bar.id}/stock", headers=bar.owner.headers, params={"since": seq}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["seq"] == seq + 3
    assert {c["product_id"]: c["stock"] for c in body["changes"]} == {glass: 31}
    assert {i["stock_item_id"]: i["stock"] for i in body["items"]} == {whisky: 124}
    # since the last sale only: the latest level of what moved after it
    r = await api.http.get(
        f"/api/bars/{bar.id}/stock", headers=bar.owner.headers, params={"since": seq + 2}
    )
    assert r.json()["items"] == [{"stock_item_id": whisky, "stock": 124}]
    # a snapshot (no since) keeps v1.2's shape
    snapshot = (await api.http.get(f"/api/bars/{bar.id}/stock", headers=bar.owner.headers)).json()
    assert "snapshot" in snapshot and "items" not in snapshot
