"""Containers and empties (consignes, issue 16): containers with a deposit and contents, the
empties stock in the same ledger and seq, the customer empties refund, breaking and counting
empties, deliveries with full containers in and empties handed back, the supplier balance."""

from __future__ import annotations

import uuid
from typing import Any

from tests.core.test_accounts import problem
from tests.core.test_stock_items import item
from tests.corrections.helpers import post
from tests.realtime.wsclient import WsClient
from tests.support import Api, Bar


async def container(api: Api, bar: Bar, name: str, deposit: int, **kw: Any) -> dict[str, Any]:
    r = await api.http.post(
        f"/api/bars/{bar.id}/containers",
        headers=bar.owner.headers,
        json={"name": name, "deposit": deposit, **kw},
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def empties_of(api: Api, bar: Bar) -> dict[str, int]:
    r = await api.http.get(f"/api/bars/{bar.id}/containers", headers=bar.owner.headers)
    assert r.status_code == 200, r.text
    return {c["name"]: c["empties"] for c in r.json()["containers"]}


async def test_containers_refund_break_and_count_empties(api: Api) -> None:
    bar = await api.bar()
    flag = await item(api, bar, "Flag 65 cl", "bouteille", {"casier": 24})
    bottle = await container(
        api, bar, "Bouteille 65 cl", 100, contents=[{"stock_item_id": flag, "qty": 1}]
    )
    crate = await container(
        api, bar, "Casier 24", 2000, contents=[{"stock_item_id": flag, "qty": 24}]
    )
    assert bottle["empties"] == 0 and bottle["contents"] == [{"stock_item_id": flag, "qty": 1}]
    r = await api.http.post(
        f"/api/bars/{bar.id}/containers",
        headers=bar.owner.headers,
        json={"name": "Bouteille 65 cl", "deposit": 1},
    )
    assert problem(r, 400, "invalid_request")["errors"][0]["field"] == "name"
    staff = await api.member(bar, "staff")

    seq = await api.seq(bar)
    ws = await WsClient.ready(api.server.ws_url, staff.access_token)
    try:
        await ws.subscribe(bar.id, since=seq)
        op = str(uuid.uuid4())
        body = {
            "items": [
                {"container_id": bottle["id"], "qty": 5},
                {"container_id": crate["id"], "qty": 1},
            ]
        }
        r = await post(api.http, bar, "empties/refunds", body, user=staff, op_id=op)
        assert r.status_code == 201, r.text
        refund = r.json()
        assert (refund["refund"], refund["currency"], refund["seq"]) == (2500, "XOF", seq + 1)
        m = await ws.recv()
        assert (m["type"], m["seq"], m["cause"]) == ("stock", seq + 1, "empties_refund")
    finally:
        await ws.close()
    again = await post(api.http, bar, "empties/refunds", body, user=staff, op_id=op)
    assert again.status_code == 200 and again.content == r.content
    other = {"items": [{"container_id": bottle["id"], "qty": 6}]}
    problem(
        await post(api.http, bar, "empties/refunds", other, user=staff, op_id=op),
        409,
        "idempotency_conflict",
    )
    bad = {"items": [{"container_id": str(uuid.uuid4()), "qty": 1}]}
    r = await post(api.http, bar, "empties/refunds", bad)
    assert problem(r, 400, "invalid_request")["errors"][0]["field"] == "items[0].container_id"
    assert await empties_of(api, bar) == {"Bouteille 65 cl": 5, "Casier 24": 1}

    # breaking an empty is waste of its stock item; a count covers empties
    r = await post(
        api.http,
        bar,
        "waste",
        {"kind": "breakage", "items": [{"stock_item_id": bottle["empties_item_id"], "qty": 1}]},
    )
    assert r.status_code == 201, r.text
    r = await post(
        api.http,
        bar,
        "stock-counts",
        {"counts": [{"stock_item_id": crate["empties_item_id"], "counted": 3}]},
    )
    assert r.status_code == 201, r.text
    assert await empties_of(api, bar) == {"Bouteille 65 cl": 4, "Casier 24": 3}
    assert await api.seq(bar) == seq + 3


async def test_deliveries_swap_empties_and_keep_the_supplier_balance(api: Api) -> None:
    bar = await api.bar()
    flag = await item(api, bar, "Flag 65 cl", "bouteille", {"casier": 24})
    crate = await container(
        api, bar, "Casier 24", 2000, contents=[{"stock_item_id": flag, "qty": 24}]
    )
    await post(
        api.http, bar, "empties/refunds", {"items": [{"container_id": crate["id"], "qty": 3}]}
    )
    seq = await api.seq(bar)

    def delivery(full: int, out: int, supplier: str) -> dict[str, Any]:
        return {
            "supplier": supplier,
            "items": [{"stock_item_id": flag, "pack": "casier", "packs": full}],
            "containers": [{"container_id": crate["id"], "full_in": full, "empties_out": out}],
        }

    r = await post(api.http, bar, "deliveries", delivery(5, 2, "Solibra"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["seq"] == seq + 1
    assert body["containers"] == [
        {"container_id": crate["id"], "full_in": 5, "empties_out": 2, "empties": 1}
    ]
    # more empties than the bar holds: nothing delivered, the id stays free
    op = str(uuid.uuid4())
    r = await post(api.http, bar, "deliveries", delivery(1, 2, "Solibra"), op_id=op)
    assert problem(r, 409, "insufficient_stock")["available"] == 1
    assert await api.seq(bar) == seq + 1
    r = await post(api.http, bar, "deliveries", delivery(2, 1, "Brassivoire"), op_id=op)
    assert r.status_code == 201, r.text
    r = await post(
        api.http,
        bar,
        "deliveries",
        {**delivery(1, 0, "Solibra"), "containers": [{"container_id": str(uuid.uuid4())}]},
    )
    assert problem(r, 400, "invalid_request")["errors"][0]["field"] == "containers[0].container_id"
    r = await api.http.get(f"/api/bars/{bar.id}/empties/balance", headers=bar.owner.headers)
    assert r.status_code == 200, r.text
    assert [
        (s["supplier"], s["full_in"], s["empties_out"], s["balance"], s["value"])
        for s in r.json()["suppliers"]
    ] == [
        ("Brassivoire", 2, 1, 1, 2000),
        ("Solibra", 5, 2, 3, 6000),
    ]
    assert await empties_of(api, bar) == {"Casier 24": 0}
    r = await api.http.get(f"/api/bars/{bar.id}/stock-items", headers=bar.owner.headers)
    stock = {i["id"]: i["stock"] for i in r.json()["stock_items"]}
    assert stock[flag] == 7 * 24
    staff = await api.member(bar, "staff")
    r = await api.http.get(f"/api/bars/{bar.id}/empties/balance", headers=staff.headers)
    problem(r, 403, "forbidden")


async def test_empties_running_out_is_not_a_low_stock_alert(api: Api) -> None:
    """Handing every empty back (or breaking the last one) is normal: the empties item of a
    container never raises a low-stock or out-of-stock alert, whatever its threshold."""
    bar = await api.bar()
    flag = await item(api, bar, "Flag 65 cl", "bouteille", {"casier": 24})
    bottle = await container(
        api, bar, "Bouteille 65 cl", 100, contents=[{"stock_item_id": flag, "qty": 1}]
    )
    r = await post(
        api.http, bar, "empties/refunds", {"items": [{"container_id": bottle["id"], "qty": 1}]}
    )
    assert r.status_code == 201, r.text
    r = await post(
        api.http,
        bar,
        "waste",
        {"kind": "breakage", "items": [{"stock_item_id": bottle["empties_item_id"], "qty": 1}]},
    )
    assert r.status_code == 201, r.text
    assert await empties_of(api, bar) == {"Bouteille 65 cl": 0}
    r = await api.http.get(f"/api/bars/{bar.id}/alerts", headers=bar.owner.headers)
    assert r.status_code == 200, r.text
    # an item's alert carries the item's id as `product_id` (docs/protocol.md)
    empties_id = bottle["empties_item_id"]
    assert [a for a in r.json()["alerts"] if a["product_id"] == empties_id] == []
