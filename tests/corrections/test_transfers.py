"""Transfers between bars (issue 16): both bars' stock, ledgers and seq in one transaction,
both live, idempotent by id, membership of both bars, and no deadlock between opposite
transfers racing."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from tests.core.test_accounts import problem
from tests.core.test_stock_items import item
from tests.corrections.helpers import post
from tests.realtime.wsclient import WsClient
from tests.support import Api, Bar


async def two_bars(api: Api) -> tuple[Bar, Bar, str, str]:
    """Two bars of one owner, each selling Flag (10 in the first, 4 in the second)."""
    a = await api.bar()
    b = await api.bar(owner=a.owner)
    return a, b, await api.product(a, "Flag", stock=10), await api.product(b, "Flag", stock=4)


async def test_a_transfer_moves_both_bars_in_one_go_and_both_go_live(api: Api) -> None:
    a, b, flag_a, flag_b = await two_bars(api)
    seq_a, seq_b = await api.seq(a), await api.seq(b)
    ws = await WsClient.ready(api.server.ws_url, a.owner.access_token)
    try:
        await ws.subscribe(a.id, since=seq_a)
        await ws.subscribe(b.id, since=seq_b)
        r = await post(
            api.http,
            a,
            "transfers",
            {
                "to_bar_id": b.id,
                "items": [{"product_id": flag_a, "to_product_id": flag_b, "qty": 6}],
            },
        )
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["seq"], body["to_seq"]) == (seq_a + 1, seq_b + 1)
        assert body["items"] == [{"stock_item_id": flag_a, "to_stock_item_id": flag_b, "qty": 6}]
        assert body["stock"] == [{"product_id": flag_a, "stock": 4}]
        assert body["to_stock"] == [{"product_id": flag_b, "stock": 10}]
        seen = {}
        for _ in range(2):
            m = await ws.recv()
            seen[m["bar_id"]] = (m["type"], m["seq"], m["cause"])
        assert seen == {
            a.id: ("stock", seq_a + 1, "transfer_out"),
            b.id: ("stock", seq_b + 1, "transfer_in"),
        }
    finally:
        await ws.close()
    assert (await api.stock(a))[flag_a] == 4 and (await api.stock(b))[flag_b] == 10
    for bar, kind, delta in ((a, "transfer_out", -6), (b, "transfer_in", 6)):
        r = await api.http.get(f"/api/bars/{bar.id}/movements", headers=bar.owner.headers)
        last = r.json()["movements"][-1]
        assert (last["kind"], last["delta"], last["ref_id"]) == (kind, delta, body["id"])


async def test_stock_items_in_packs_and_the_same_base_unit(api: Api) -> None:
    a = await api.bar()
    b = await api.bar(owner=a.owner)
    rum_a = await item(api, a, "Rhum", "cl", {"bouteille": 70})
    rum_b = await item(api, b, "Rhum", "cl", {})
    lime_b = await item(api, b, "Citron", "unit", {})
    r = await post(api.http, a, "deliveries", {"items": [{"stock_item_id": rum_a, "qty": 200}]})
    assert r.status_code == 201, r.text
    line = {"stock_item_id": rum_a, "pack": "bouteille", "packs": 2}
    r = await post(
        api.http,
        a,
        "transfers",
        {"to_bar_id": b.id, "items": [{**line, "to_stock_item_id": lime_b}]},
    )
    assert problem(r, 400, "invalid_request")["errors"][0]["field"] == "items[0].to_stock_item_id"
    r = await post(
        api.http,
        a,
        "transfers",
        {"to_bar_id": b.id, "items": [{**line, "to_stock_item_id": rum_b}]},
    )
    assert r.status_code == 201, r.text
    assert r.json()["items"][0]["qty"] == 140


async def test_only_a_manager_of_both_bars_may_transfer(api: Api) -> None:
    a, b, flag_a, flag_b = await two_bars(api)
    body = {"to_bar_id": b.id, "items": [{"product_id": flag_a, "to_product_id": flag_b, "qty": 1}]}
    manager = await api.member(a, "manager")
    # not a member of the destination: it does not exist for them
    problem(await post(api.http, a, "transfers", body, user=manager), 404, "not_found")
    r = await api.http.post(
        f"/api/bars/{b.id}/staff",
        headers=b.owner.headers,
        json={"email": manager.email, "name": "M", "password": "x" * 12, "role": "staff"},
    )
    assert r.status_code in (200, 201), r.text
    problem(await post(api.http, a, "transfers", body, user=manager), 403, "forbidden")
    staff = await api.member(a, "staff")
    problem(await post(api.http, a, "transfers", body, user=staff), 403, "forbidden")
    outsider = await api.user()
    problem(await post(api.http, a, "transfers", body, user=outsider), 404, "not_found")
    assert (await api.stock(a))[flag_a] == 10 and (await api.stock(b))[flag_b] == 4


async def test_replay_conflict_refusals_change_nothing(api: Api) -> None:
    a, b, flag_a, flag_b = await two_bars(api)
    op = str(uuid.uuid4())
    line = {"product_id": flag_a, "to_product_id": flag_b}
    too_much = {"to_bar_id": b.id, "items": [{**line, "qty": 11}]}
    r = await post(api.http, a, "transfers", too_much, op_id=op)
    assert problem(r, 409, "insufficient_stock")["available"] == 10
    seq_a, seq_b = await api.seq(a), await api.seq(b)
    bad = [
        ({"to_bar_id": a.id, "items": [{**line, "qty": 1}]}, "to_bar_id"),
        (
            {"to_bar_id": b.id, "items": [{"product_id": flag_a, "qty": 1}]},
            "items[0].to_product_id",
        ),
        (
            {
                "to_bar_id": b.id,
                "items": [{**line, "qty": 1}, {**line, "to_product_id": flag_a, "qty": 1}],
            },
            "items[1].to_product_id",
        ),
        (
            {"to_bar_id": b.id, "items": [{**line, "product_id": flag_b, "qty": 1}]},
            "items[0].product_id",
        ),
    ]
    for body, field in bad:
        r = await post(api.http, a, "transfers", body)
        errors = problem(r, 400, "invalid_request")["errors"]
        assert field in [e["field"] for e in errors], (field, r.text)
    r = await post(
        api.http, a, "transfers", {"to_bar_id": str(uuid.uuid4()), "items": [line | {"qty": 1}]}
    )
    problem(r, 404, "not_found")
    assert (await api.seq(a), await api.seq(b)) == (seq_a, seq_b)

    ok = {"to_bar_id": b.id, "items": [{**line, "qty": 10}]}
    first = await post(api.http, a, "transfers", ok, op_id=op)  # the refused id is still free
    assert first.status_code == 201, first.text
    again = await post(api.http, a, "transfers", ok, op_id=op)
    assert again.status_code == 200 and again.content == first.content
    problem(
        await post(api.http, a, "transfers", {**ok, "note": "x"}, op_id=op),
        409,
        "idempotency_conflict",
    )
    # the id is taken in the destination's id space too
    problem(await api.sell(b, {flag_b: 1}, sale_id=op), 409, "idempotency_conflict")
    assert (await api.stock(a))[flag_a] == 0 and (await api.stock(b))[flag_b] == 14
    assert (await api.seq(a), await api.seq(b)) == (seq_a + 1, seq_b + 1)


async def test_opposite_transfers_racing_never_deadlock(api: Api) -> None:
    """Ten transfers each way between the same two items at once: every one commits (a
    deadlock would answer 503), the stock and both seqs add up."""
    a, b, flag_a, flag_b = await two_bars(api)
    await api.deliver(b, {flag_b: 6})  # 10 and 10
    seq_a, seq_b = await api.seq(a), await api.seq(b)

    def body(to: Bar, src: str, dst: str) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid4()),
            "to_bar_id": to.id,
            "items": [{"product_id": src, "to_product_id": dst, "qty": 1}],
        }

    jobs = [(a, body(b, flag_a, flag_b)) for _ in range(10)]
    jobs += [(b, body(a, flag_b, flag_a)) for _ in range(10)]
    clients = [httpx.AsyncClient(base_url=api.server.base_url, timeout=30) for _ in jobs]
    try:
        await asyncio.gather(*(c.get("/api/health") for c in clients))
        start = asyncio.Event()

        async def one(client: httpx.AsyncClient, src: Bar, json: dict[str, Any]) -> int:
            await start.wait()
            r = await client.post(
                f"/api/bars/{src.id}/transfers", headers=a.owner.headers, json=json
            )
            return r.status_code

        tasks = [asyncio.create_task(one(c, s, j)) for c, (s, j) in zip(clients, jobs, strict=True)]
        start.set()
        assert await asyncio.gather(*tasks) == [201] * 20
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    assert (await api.stock(a))[flag_a] == 10 and (await api.stock(b))[flag_b] == 10
    assert (await api.seq(a), await api.seq(b)) == (seq_a + 20, seq_b + 20)
