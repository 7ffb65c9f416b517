"""Contract: the polling endpoint — snapshot, changes since, ETag/304, no queries when unchanged."""

from __future__ import annotations

import asyncio
import uuid

from tests.support import Api, Bar, drop_listen, eventually


async def _poll(api: Api, bar: Bar, **params: object):
    headers = dict(bar.owner.headers)
    if "etag" in params:
        headers["If-None-Match"] = str(params.pop("etag"))
    return await api.http.get(f"/api/bars/{bar.id}/stock", headers=headers, params=params)


async def _settled(api: Api, bar: Bar, seq: int) -> None:
    """Wait until this process's feed has applied the NOTIFY for `seq`."""
    async with asyncio.timeout(2):
        await api.server.rt.feed.caught_up(uuid.UUID(bar.id), seq)


async def test_snapshot_lists_every_active_product(api: Api) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=4)
    empty = await api.product(bar, "Empty")
    hidden = await api.product(bar, "Hidden", stock=2)
    await api.http.patch(
        f"/api/bars/{bar.id}/products/{hidden}", headers=bar.owner.headers, json={"active": False}
    )
    r = await _poll(api, bar)
    assert r.status_code == 200
    body = r.json()
    assert r.headers["etag"] == f'"{body["seq"]}"' and body["seq"] == 2
    assert body["bar_id"] == bar.id and body["mode"] in ("push", "poll")
    assert 1000 <= body["poll_interval_ms"] <= 60000
    assert "changes" not in body
    assert sorted(body["snapshot"], key=lambda s: s["stock"]) == [
        {"product_id": empty, "stock": 0},
        {"product_id": flag, "stock": 4},
    ]


async def test_changes_since_are_net_and_etag_answers_304(api: Api) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=10)
    coke = await api.product(bar, "Coca", stock=10)
    base = (await _poll(api, bar)).json()["seq"]
    await api.sell(bar, {flag: 1})
    await api.sell(bar, {flag: 2, coke: 1})
    await _settled(api, bar, base + 2)
    r = await _poll(api, bar, since=base)
    body = r.json()
    assert body["seq"] == base + 2 and "snapshot" not in body
    assert sorted(body["changes"], key=lambda c: c["stock"]) == [
        {"product_id": flag, "stock": 7},
        {"product_id": coke, "stock": 9},
    ]
    assert (await _poll(api, bar, since=base + 2)).json()["changes"] == []
    for tag in (f'"{base + 2}"', f'W/"{base + 2}"'):
        not_modified = await _poll(api, bar, since=base + 2, etag=tag)
        assert not_modified.status_code == 304 and not_modified.content == b""
        assert not_modified.headers["etag"] == f'"{base + 2}"'
    stale = await _poll(api, bar, since=base + 1, etag=f'"{base + 1}"')
    assert stale.status_code == 200
    assert sorted(stale.json()["changes"], key=lambda c: c["stock"]) == [
        {"product_id": flag, "stock": 7},
        {"product_id": coke, "stock": 9},
    ]


async def test_an_unchanged_poll_issues_no_query(api: Api) -> None:
    bar = await api.bar()
    await api.product(bar, "Flag", stock=3)
    first = await _poll(api, bar)  # warms the membership cache and the feed
    seq = first.json()["seq"]
    counter = api.server.rt.counter
    before = counter.count
    for _ in range(5):
        assert (await _poll(api, bar, etag=f'"{seq}"')).status_code == 304
        assert (await _poll(api, bar, since=seq)).json()["changes"] == []
    assert counter.count == before


async def test_since_ahead_of_this_instance_never_goes_backwards(api: Api) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=3)
    seq = (await _poll(api, bar)).json()["seq"]
    body = (await _poll(api, bar, since=seq + 5)).json()
    # the client knows a future this database never had: it is told the truth (a snapshot)
    assert body["seq"] == seq and body["snapshot"] == [{"product_id": flag, "stock": 3}]


async def test_listen_loss_falls_back_to_the_database_then_resyncs(api: Api) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=5)
    seq = (await _poll(api, bar)).json()["seq"]
    rt = api.server.rt
    await drop_listen(rt)
    assert not rt.feed.live
    await api.sell(bar, {flag: 1})
    r = await _poll(api, bar, since=seq)  # served from PostgreSQL, not stale memory
    assert r.json()["seq"] == seq + 1 and r.json()["changes"] == [{"product_id": flag, "stock": 4}]
    await eventually(lambda: rt.feed.live, what="LISTEN back")
    await _settled(api, bar, seq + 1)  # the missed transaction was replayed from the ledger
    state = rt.feed.bars[uuid.UUID(bar.id)]
    assert [e.seq for e in state.history][-1] == seq + 1
    await api.sell(bar, {flag: 1})
    await _settled(api, bar, seq + 2)
    assert (await _poll(api, bar, since=seq)).json()["changes"] == [
        {"product_id": flag, "stock": 3}
    ]


async def test_bad_since_is_400(api: Api) -> None:
    bar = await api.bar()
    for bad in ("-1", "abc"):
        r = await api.http.get(
            f"/api/bars/{bar.id}/stock", headers=bar.owner.headers, params={"since": bad}
        )
        assert r.status_code == 400 and r.json()["type"] == "invalid_request"


async def test_a_transaction_too_large_for_notify_is_read_from_the_ledger(api: Api) -> None:
    """A NOTIFY payload must stay under 8000 bytes: a 150-product count sends only its seq."""
    bar = await api.bar()
    pool = api.server.rt.pool
    products = [
        str(
            await pool.fetchval(
                "INSERT INTO products (bar_id, name, price) VALUES ($1, $2, 100) RETURNING id",
                uuid.UUID(bar.id),
                f"P{i:03}",
            )
        )
        for i in range(150)
    ]
    seq = (await _poll(api, bar)).json()["seq"]  # warm: this process now follows the bar
    r = await api.http.post(
        f"/api/bars/{bar.id}/stock-counts",
        headers=bar.owner.headers,
        json={
            "id": str(uuid.uuid4()),
            "counts": [{"product_id": p, "counted": 7} for p in products],
        },
    )
    assert r.status_code == 201 and len(r.content) > 8000
    await _settled(api, bar, seq + 1)
    event = api.server.rt.feed.bars[uuid.UUID(bar.id)].history[-1]
    assert event.seq == seq + 1 and event.cause == "count"
    assert sorted(c.product_id for c in event.changes or []) == sorted(products)
    counter = api.server.rt.counter.count
    body = (await _poll(api, bar, since=seq)).json()
    assert api.server.rt.counter.count == counter  # served from memory, filled from the ledger
    assert {c["product_id"]: c["stock"] for c in body["changes"]} == dict.fromkeys(products, 7)
