"""Catalog changes reach subscribed sockets (`catalog` message) and pollers (`catalog_seq`)."""

from __future__ import annotations

from tests.realtime.wsclient import WsClient
from tests.support import Api, RunningServer


async def test_product_created_and_edited_reach_sockets_and_the_polling_endpoint(
    api: Api, server: RunningServer
) -> None:
    bar = await api.bar()
    first = await api.product(bar, "Flag", stock=5)
    ws = await WsClient.ready(server.ws_url, bar.owner.access_token)
    _, mode = await ws.subscribe(bar.id)
    base = mode["catalog_seq"]
    assert base >= 1  # the product created above counted

    async def next_catalog() -> dict:
        while True:  # the first product's own notice may land after subscribing: older
            message = await ws.recv(catalog=True)
            if message["type"] != "catalog" or message["catalog_seq"] > base:
                return message

    created = await api.http.post(
        f"/api/bars/{bar.id}/products",
        headers=bar.owner.headers,
        json={
            "name": "Castel",
            "category": "Bières",
            "price": 900,
            "low_threshold": 3,
            "par_level": 12,
            "cost": 500,
        },
    )
    assert created.status_code == 201
    message = await next_catalog()
    assert message == {
        "type": "catalog",
        "bar_id": bar.id,
        "catalog_seq": base + 1,
        "product": created.json(),
    }

    r = await api.http.patch(
        f"/api/bars/{bar.id}/products/{first}",
        headers=bar.owner.headers,
        json={"price": 1200, "active": False},
    )
    assert r.status_code == 200
    message = await next_catalog()
    assert message["type"] == "catalog" and message["catalog_seq"] == base + 2
    assert message["product"] == r.json()
    assert message["product"]["active"] is False and message["product"]["stock"] == 5

    # stock changes are not catalog changes, and an edit that changes nothing is no change
    assert (await api.sell(bar, {created.json()["id"]: 1})).status_code == 409  # no stock yet
    await api.deliver(bar, {created.json()["id"]: 4})
    assert (await next_catalog())["type"] == "stock"
    r = await api.http.patch(
        f"/api/bars/{bar.id}/products/{created.json()['id']}",
        headers=bar.owner.headers,
        json={"price": 900},
    )
    assert r.status_code == 200
    await ws.nothing_for(0.3, catalog=True)

    polled = (await api.http.get(f"/api/bars/{bar.id}/stock", headers=bar.owner.headers)).json()
    assert polled["catalog_seq"] == base + 2
    await ws.close()


async def test_catalog_seq_is_per_bar(api: Api, server: RunningServer) -> None:
    bar = await api.bar()
    other = await api.bar(bar.owner)
    await api.product(bar, "A")
    await api.product(bar, "B")
    await api.product(other, "C")
    for b, expected in ((bar, 2), (other, 1)):
        polled = (await api.http.get(f"/api/bars/{b.id}/stock", headers=bar.owner.headers)).json()
        assert polled["catalog_seq"] == expected
