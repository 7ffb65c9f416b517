"""Stock items in base units, packs, recipes (issue 15): conversion, composite sales
(all-or-nothing, voids), availability on GET products / the poll endpoint, and the ledger in
base units."""

from __future__ import annotations

import uuid
from typing import Any

from bartender.forecast import history
from bartender.live import queries
from tests.core.test_accounts import problem
from tests.realtime.wsclient import WsClient
from tests.support import Api, Bar


async def item(api: Api, bar: Bar, name: str, base_unit: str, packs: dict[str, int]) -> str:
    r = await api.http.post(
        f"/api/bars/{bar.id}/stock-items",
        headers=bar.owner.headers,
        json={
            "name": name,
            "base_unit": base_unit,
            "low_threshold": 0,
            "par_level": 0,
            "packs": [{"name": n, "size": s} for n, s in packs.items()],
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["stock"] == 0 and body["base_unit"] == base_unit
    return str(body["id"])


async def recipe(api: Api, bar: Bar, product: str, components: dict[str, int]) -> dict[str, Any]:
    r = await api.http.put(
        f"/api/bars/{bar.id}/products/{product}/recipe",
        headers=bar.owner.headers,
        json={"components": [{"stock_item_id": i, "qty": q} for i, q in components.items()]},
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


async def post(api: Api, bar: Bar, path: str, body: dict[str, Any]) -> Any:
    return await api.http.post(
        f"/api/bars/{bar.id}/{path}",
        headers=bar.owner.headers,
        json={"id": str(uuid.uuid4()), **body},
    )


async def items_stock(api: Api, bar: Bar) -> dict[str, int]:
    r = await api.http.get(f"/api/bars/{bar.id}/stock-items", headers=bar.owner.headers)
    assert r.status_code == 200, r.text
    return {i["id"]: i["stock"] for i in r.json()["stock_items"]}


async def test_deliveries_and_counts_in_packs_units_and_tenths(api: Api) -> None:
    bar = await api.bar()
    flag = await item(api, bar, "Flag 65 cl", "bouteille", {"casier": 24})
    whisky = await item(api, bar, "Whisky", "cl", {"bouteille": 70})
    # 10 casiers in one line, and 2 bottles + 30 cl
    r = await post(
        api,
        bar,
        "deliveries",
        {
            "items": [
                {"stock_item_id": flag, "pack": "casier", "packs": 10},
                {"stock_item_id": whisky, "pack": "bouteille", "packs": 2, "units": 30},
            ]
        },
    )
    assert r.status_code == 201, r.text
    assert {i["stock_item_id"]: i["qty"] for i in r.json()["items"]} == {flag: 240, whisky: 170}
    assert await items_stock(api, bar) == {flag: 240, whisky: 170}
    # counted: "3 casiers + 5 bouteilles"; "2 bouteilles + 3/10"
    r = await post(
        api,
        bar,
        "stock-counts",
        {
            "counts": [
                {"stock_item_id": flag, "pack": "casier", "packs": 3, "units": 5},
                {"stock_item_id": whisky, "pack": "bouteille", "packs": 2, "tenths": 3},
            ]
        },
    )
    assert r.status_code == 201, r.text
    lines = {line["stock_item_id"]: line for line in r.json()["lines"]}
    assert (lines[flag]["expected"], lines[flag]["counted"]) == (240, 77)
    assert (lines[whisky]["counted"], lines[whisky]["variance"]) == (161, -9)
    assert await items_stock(api, bar) == {flag: 77, whisky: 161}
    # an unknown pack names its line; nothing changes
    r = await post(
        api, bar, "deliveries", {"items": [{"stock_item_id": flag, "pack": "palette", "packs": 1}]}
    )
    assert problem(r, 400, "invalid_request")["errors"][0]["field"] == "items[0].pack"
    r = await post(api, bar, "deliveries", {"items": [{"stock_item_id": flag}]})
    assert problem(r, 400, "invalid_request")["errors"][0]["field"] == "items[0].qty"
    r = await post(  # 100000 casiers of 24: past what one line may bring (1000000 units)
        api,
        bar,
        "deliveries",
        {"items": [{"stock_item_id": flag, "pack": "casier", "packs": 100000}]},
    )
    assert problem(r, 400, "invalid_request")["errors"][0]["field"] == "items[0].packs"
    assert await items_stock(api, bar) == {flag: 77, whisky: 161}


async def test_composite_sale_all_or_nothing_and_void(api: Api) -> None:
    bar = await api.bar()
    whisky = await item(api, bar, "Whisky", "cl", {"bouteille": 70})
    rum = await item(api, bar, "Rhum", "cl", {"bouteille": 70})
    lime = await item(api, bar, "Citron vert", "pièce", {"filet": 10})
    glass = await api.product(bar, "Whisky (verre)", price=2500)
    mojito = await api.product(bar, "Mojito", price=3000)
    rum_glass = await api.product(bar, "Rhum (verre)", price=2000)
    assert (await recipe(api, bar, glass, {whisky: 4}))["components"] == [
        {"stock_item_id": whisky, "qty": 4}
    ]
    await recipe(api, bar, mojito, {rum: 5, lime: 1})
    await recipe(api, bar, rum_glass, {rum: 4})
    seq = await api.seq(bar)
    r = await post(
        api,
        bar,
        "deliveries",
        {
            "items": [
                {"stock_item_id": whisky, "pack": "bouteille", "packs": 1},
                {"stock_item_id": rum, "units": 14},
                {"stock_item_id": lime, "units": 3},
            ]
        },
    )
    assert r.status_code == 201, r.text
    # availability: min over components of floor(stock / qty), in the response and GET
    assert {s["product_id"]: s["stock"] for s in r.json()["stock"]} == {
        glass: 17,
        mojito: 2,
        rum_glass: 3,
    }
    assert await api.seq(bar) == seq + 1
    # a mojito and a rum glass together take 9 cl of 14: fine; then 2 mojitos need 10 of 5
    r = await api.sell(bar, {mojito: 1, rum_glass: 1, glass: 2})
    assert r.status_code == 201, r.text
    sale = r.json()
    assert {s["product_id"]: s["stock"] for s in sale["stock"]} == {
        glass: 15,
        mojito: 1,
        rum_glass: 1,
    }
    before = await items_stock(api, bar)
    assert (before[whisky], before[rum], before[lime]) == (62, 5, 2)
    r = await api.sell(bar, {mojito: 2, glass: 1})
    body = problem(r, 409, "insufficient_stock")
    assert (body["product_id"], body["requested"], body["available"]) == (mojito, 2, 1)
    assert body["stock_item_id"] == rum and body["stock_item_name"] == "Rhum"
    assert await items_stock(api, bar) == before  # all or nothing: the whisky glass too
    # the void puts back every component the sale took
    r = await api.http.post(
        f"/api/bars/{bar.id}/sales/{sale['id']}/void",
        headers=bar.owner.headers,
        json={"reason": "wrong table"},
    )
    assert r.status_code == 200, r.text
    after = await items_stock(api, bar)
    assert (after[whisky], after[rum], after[lime]) == (70, 14, 3)
    assert {k: v for k, v in (await api.stock(bar)).items()} == {glass: 17, mojito: 2, rum_glass: 3}
    # the poll endpoint shows availability too
    r = await api.http.get(f"/api/bars/{bar.id}/stock", headers=bar.owner.headers)
    assert {s["product_id"]: s["stock"] for s in r.json()["snapshot"]} == {
        glass: 17,
        mojito: 2,
        rum_glass: 3,
    }


async def test_ledger_in_base_units_and_seq(api: Api) -> None:
    bar = await api.bar()
    whisky = await item(api, bar, "Whisky", "cl", {"bouteille": 70})
    glass = await api.product(bar, "Whisky (verre)", price=2500)
    await recipe(api, bar, glass, {whisky: 4})
    await post(api, bar, "deliveries", {"items": [{"stock_item_id": whisky, "units": 9}]})
    r = await api.sell(bar, {glass: 2})
    assert r.status_code == 201, r.text
    rows = await api.server.rt.pool.fetch(
        "SELECT seq, delta, stock_after, kind FROM item_movements WHERE stock_item_id = $1 "
        "ORDER BY seq",
        uuid.UUID(whisky),
    )
    assert [(r["delta"], r["stock_after"], r["kind"]) for r in rows] == [
        (9, 9, "delivery"),
        (-8, 1, "sale"),
    ]
    assert rows[-1]["seq"] == await api.seq(bar)
    # selling a glass with 1 cl left: insufficient, naming the product and the item
    body = problem(await api.sell(bar, {glass: 1}), 409, "insufficient_stock")
    assert (body["product_id"], body["requested"], body["available"]) == (glass, 1, 0)
    assert body["stock_item_id"] == whisky


async def test_composite_products_are_restocked_through_their_items(api: Api) -> None:
    bar = await api.bar()
    whisky = await item(api, bar, "Whisky", "cl", {})
    glass = await api.product(bar, "Whisky (verre)")
    await recipe(api, bar, glass, {whisky: 4})
    r = await post(api, bar, "deliveries", {"items": [{"product_id": glass, "qty": 3}]})
    assert problem(r, 400, "invalid_request")["errors"][0]["field"] == "items[0].product_id"


async def test_schema_documents_stock_responses(api: Api) -> None:
    """Issue 13.3: every stock response has a type in /schema, though SQL builds the bytes."""
    r = await api.http.get("/schema/openapi.json")
    assert r.status_code == 200, r.text
    paths = r.json()["paths"]
    base = "/api/bars/{bar_id}"
    for path, method, status, schema in [
        ("/sales", "post", "201", "SaleOut"),
        ("/sales", "get", "200", "SalesPage"),
        ("/stock", "get", "200", "StockPoll"),
        ("/products", "get", "200", "ProductsOut"),
        ("/deliveries", "post", "201", "DeliveryOut"),
        ("/stock-counts", "post", "201", "CountOut"),
        ("/movements", "get", "200", "MovementsOut"),
        ("/stats/today", "get", "200", "StatsToday"),
        ("/stock-items", "get", "200", "StockItemsOut"),
    ]:
        content = paths[base + path][method]["responses"][status]["content"]
        ref = content["application/json"]["schema"]["$ref"]
        assert ref.endswith("/" + schema), (path, ref)


async def test_live_stock_messages_carry_availability(api: Api) -> None:
    """A sale of a cocktail reaches sockets as one `stock` message (seq +1) holding every
    product whose availability moved, in v1.2's shape; a delivery of an item too."""
    bar = await api.bar()
    rum = await item(api, bar, "Rhum", "cl", {"bouteille": 70})
    lime = await item(api, bar, "Citron vert", "pièce", {})
    mojito = await api.product(bar, "Mojito", price=3000)
    rum_glass = await api.product(bar, "Rhum (verre)", price=2000)
    await recipe(api, bar, mojito, {rum: 5, lime: 1})
    await recipe(api, bar, rum_glass, {rum: 4})
    ws = await WsClient.ready(api.server.ws_url, bar.owner.access_token)
    try:
        seq = await api.seq(bar)
        await ws.subscribe(bar.id, since=seq)
        r = await post(
            api,
            bar,
            "deliveries",
            {"items": [{"stock_item_id": rum, "pack": "bouteille", "packs": 1}]},
        )
        assert r.status_code == 201, r.text
        message = await ws.recv()
        assert (message["type"], message["seq"], message["cause"]) == ("stock", seq + 1, "delivery")
        assert {c["product_id"]: c["stock"] for c in message["changes"]} == {rum_glass: 17}
        await post(api, bar, "deliveries", {"items": [{"stock_item_id": lime, "units": 10}]})
        message = await ws.recv()
        assert message["seq"] == seq + 2
        assert {c["product_id"]: c["stock"] for c in message["changes"]} == {mojito: 10}
        assert (await api.sell(bar, {mojito: 2})).status_code == 201
        message = await ws.recv()
        assert (message["seq"], message["cause"]) == (seq + 3, "sale")
        assert {c["product_id"]: c["stock"] for c in message["changes"]} == {
            mojito: 8,
            rum_glass: 15,
        }
    finally:
        await ws.close()


async def test_item_only_transaction_keeps_its_seq_in_the_ledger_replay(api: Api) -> None:
    """Limes delivered before any product uses them: seq +1 with no product change; the
    replay from the ledger (gap filling) still has that seq, so no client sees a hole."""
    bar = await api.bar()
    lime = await item(api, bar, "Citron vert", "pièce", {})
    seq = await api.seq(bar)
    r = await post(api, bar, "deliveries", {"items": [{"stock_item_id": lime, "units": 10}]})
    assert r.status_code == 201 and r.json()["seq"] == seq + 1 and r.json()["stock"] == []
    rows = await queries.ledger_range(api.server.rt.pool, uuid.UUID(bar.id), seq, seq + 1)
    assert [(row["seq"], row["cause"], row["changes"]) for row in rows] == [
        (seq + 1, "delivery", "[]")
    ]


async def test_recipe_change_is_a_stock_transaction_and_items_are_editable(api: Api) -> None:
    bar = await api.bar()
    whisky = await item(api, bar, "Whisky", "cl", {"bouteille": 70})
    glass = await api.product(bar, "Whisky (verre)")
    await recipe(api, bar, glass, {whisky: 4})
    await post(api, bar, "deliveries", {"items": [{"stock_item_id": whisky, "units": 40}]})
    seq = await api.seq(bar)
    # a double measure: availability 10 -> 5, one stock transaction of kind "recipe"
    body = await recipe(api, bar, glass, {whisky: 8})
    assert body["stock"] == 5 and (await api.stock(bar))[glass] == 5
    assert await api.seq(bar) == seq + 1
    r = await api.http.get(
        f"/api/bars/{bar.id}/movements?after_seq={seq}", headers=bar.owner.headers
    )
    assert [(m["kind"], m["delta"], m["stock_after"]) for m in r.json()["movements"]] == [
        ("recipe", -5, 5)
    ]
    # the same recipe again changes nothing a client sees: seq stays
    await recipe(api, bar, glass, {whisky: 8})
    assert await api.seq(bar) == seq + 1
    r = await api.http.get(f"/api/bars/{bar.id}/recipes", headers=bar.owner.headers)
    assert {x["product_id"]: x["components"] for x in r.json()["recipes"]}[glass] == [
        {"stock_item_id": whisky, "qty": 8}
    ]
    # packs are replaced whole; stock is not writable; staff may not edit
    url = f"/api/bars/{bar.id}/stock-items/{whisky}"
    r = await api.http.patch(
        url,
        headers=bar.owner.headers,
        json={"packs": [{"name": "bouteille", "size": 75}, {"name": "mignonnette", "size": 5}]},
    )
    assert r.status_code == 200, r.text
    assert r.json()["packs"] == [
        {"name": "mignonnette", "size": 5},
        {"name": "bouteille", "size": 75},
    ]
    assert r.json()["stock"] == 40
    # a product's own stock item follows its name
    flag = await api.product(bar, "Flag")
    r = await api.http.patch(
        f"/api/bars/{bar.id}/products/{flag}", headers=bar.owner.headers, json={"name": "Flag 65"}
    )
    assert r.status_code == 200, r.text
    r = await api.http.get(f"/api/bars/{bar.id}/stock-items", headers=bar.owner.headers)
    assert {i["id"]: i["name"] for i in r.json()["stock_items"]}[flag] == "Flag 65"
    r = await api.http.patch(url, headers=bar.owner.headers, json={"stock": 99})
    assert problem(r, 400, "invalid_request")["errors"][0]["field"] == "stock"
    staff = await api.member(bar, "staff")
    r = await api.http.patch(url, headers=staff.headers, json={"name": "Scotch"})
    problem(r, 403, "forbidden")
    r = await api.http.put(
        f"/api/bars/{bar.id}/products/{glass}/recipe",
        headers=bar.owner.headers,
        json={"components": [{"stock_item_id": str(uuid.uuid4()), "qty": 4}]},
    )
    assert problem(r, 400, "invalid_request")["errors"][0]["field"] == (
        "components[0].stock_item_id"
    )


async def test_forecast_history_counts_what_was_sold_not_what_moved(api: Api) -> None:
    """Selling glasses moves the whisky bottle's availability too: the forecast's sales are
    the sale lines (a glass sold is a glass, the bottle product sold nothing)."""
    bar = await api.bar()
    whisky = await item(api, bar, "Whisky", "cl", {"bouteille": 70})
    glass = await api.product(bar, "Whisky (verre)", price=2500)
    bottle = await api.product(bar, "Whisky (bouteille)", price=35000)
    await recipe(api, bar, glass, {whisky: 4})
    await recipe(api, bar, bottle, {whisky: 70})
    await post(api, bar, "deliveries", {"items": [{"stock_item_id": whisky, "units": 140}]})
    assert (await api.sell(bar, {glass: 3})).status_code == 201  # bottle availability 2 -> 1
    async with api.server.rt.pool.acquire() as conn:
        now = await history.bar_now(conn, uuid.UUID(bar.id))
        products = await history.active_products(conn, uuid.UUID(bar.id), now.today)
    sold = {p.id: p.sold_today for p in products}
    assert (sold[uuid.UUID(glass)], sold[uuid.UUID(bottle)]) == (3, 0)


async def test_stock_item_low_stock_alert(api: Api) -> None:
    """Issue 15: thresholds on stock items. Glasses take the whisky under its threshold (in
    cl): one low_stock alert naming the item (product_id is the item's id, stock_item_id says
    so), then out_of_stock once; a restock above re-arms it. The glass itself, whose own
    threshold is 0, raises nothing until it is unavailable."""
    bar = await api.bar()
    r = await api.http.post(
        f"/api/bars/{bar.id}/stock-items",
        headers=bar.owner.headers,
        json={"name": "Whisky", "base_unit": "cl", "low_threshold": 20},
    )
    whisky = r.json()["id"]
    glass = await api.product(bar, "Whisky (verre)", low_threshold=0)
    await recipe(api, bar, glass, {whisky: 4})
    await post(api, bar, "deliveries", {"items": [{"stock_item_id": whisky, "units": 28}]})
    pool = api.server.rt.pool

    async def alerts() -> list[tuple[str, str, int, str]]:
        rows = await pool.fetch(
            "SELECT kind, product_name, stock, stock_item_id FROM alerts WHERE bar_id = $1 "
            "ORDER BY n",
            uuid.UUID(bar.id),
        )
        return [(r["kind"], r["product_name"], r["stock"], str(r["stock_item_id"])) for r in rows]

    assert (await api.sell(bar, {glass: 1})).status_code == 201  # 24 cl: above 20
    assert await alerts() == []
    assert (await api.sell(bar, {glass: 1})).status_code == 201  # 20 cl: low
    assert (await api.sell(bar, {glass: 1})).status_code == 201  # 16 cl: already alerted
    assert await alerts() == [("low_stock", "Whisky", 20, whisky)]
    assert (await api.sell(bar, {glass: 4})).status_code == 201  # 0 cl
    assert [a[0] for a in await alerts()] == ["low_stock", "out_of_stock", "out_of_stock"]
    # the glass (own threshold 0) went out too: its alert is the product's, as before
    kinds = {(a[1], a[0]) for a in await alerts()}
    assert kinds == {("Whisky", "low_stock"), ("Whisky", "out_of_stock"),
                     ("Whisky (verre)", "out_of_stock")}  # fmt: skip
    await post(api, bar, "deliveries", {"items": [{"stock_item_id": whisky, "units": 70}]})
    assert (await api.sell(bar, {glass: 13})).status_code == 201  # 70 -> 18: low again
    assert (await alerts())[-1][:3] == ("low_stock", "Whisky", 18)
