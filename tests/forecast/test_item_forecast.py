"""Forecasts per stock item (issue 15): an item's demand is what its sales consumed in base
units (a whisky bottle's cl: its glasses and cocktails), suggested orders in packs, and a
product that is its own item answers for that item with the same figures."""

from __future__ import annotations

import uuid

import numpy as np

from bartender.forecast.items import PackSuggestion, in_packs
from tests.core.test_stock_items import item, post, recipe
from tests.forecast.support import give_past, restocked, weekly_demand
from tests.support import Api


def test_in_packs_largest_pack_that_fits_plus_units() -> None:
    packs = [("pack", 6), ("casier", 24), ("unité", 1)]
    assert in_packs(70, packs) == PackSuggestion("casier", 24, 2, 22)
    assert in_packs(72, packs) == PackSuggestion("casier", 24, 3, 0)
    assert in_packs(20, packs) == PackSuggestion("pack", 6, 3, 2)
    assert in_packs(5, packs) is None  # no pack fits: order in base units
    assert in_packs(0, packs) is None
    assert in_packs(100, []) is None
    assert in_packs(100, [("unité", 1)]) is None


async def test_item_demand_is_the_sum_of_its_glasses_and_cocktails(api: Api) -> None:
    bar = await api.bar()
    whisky = await item(api, bar, "Whisky", "cl", {"bouteille": 70})
    glass = await api.product(bar, "Whisky (verre)", price=2500)
    cocktail = await api.product(bar, "Whisky coca", price=3000)
    await recipe(api, bar, glass, {whisky: 4})
    await recipe(api, bar, cocktail, {whisky: 6})
    # the shelf never runs dry: no censored day, every day's consumption is demand
    delivered = await post(
        api,
        bar,
        "deliveries",
        {"items": [{"stock_item_id": whisky, "pack": "bouteille", "packs": 60}]},
    )
    assert delivered.status_code == 201, delivered.text
    flag = await api.product(bar, "Flag", par_level=200)  # its own item takes the par
    r = await api.http.patch(
        f"/api/bars/{bar.id}/stock-items/{flag}",
        headers=bar.owner.headers,
        json={"packs": [{"name": "casier", "size": 24}]},
    )
    assert r.status_code == 200, r.text
    glasses, cocktails, beers = (weekly_demand(28, seed=s, level=4.0) for s in (3, 4, 5))
    zeros = np.zeros(28, dtype=np.int64)
    await give_past(
        api.server,
        bar,
        {glass: (zeros, glasses), cocktail: (zeros, cocktails), flag: (restocked(beers), beers)},
    )
    r = await api.http.patch(
        f"/api/bars/{bar.id}/stock-items/{whisky}",
        headers=bar.owner.headers,
        json={"par_level": 4200},  # 60 bottles
    )
    assert r.status_code == 200, r.text
    # both shelves counted low today: below the reorder point, the suggestion is a real order
    counts = [{"stock_item_id": whisky, "units": 30}, {"stock_item_id": flag, "units": 5}]
    r = await post(api, bar, "stock-counts", {"counts": counts})
    assert r.status_code == 201, r.text

    r = await api.http.get(
        f"/api/bars/{bar.id}/forecast",
        headers=bar.owner.headers,
        params={"include_history": "true", "horizon_days": 7},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    items = {i["stock_item_id"]: i for i in body["stock_items"]}
    products = {p["product_id"]: p for p in body["products"]}
    # every active item (a glass's recipe replaced its own item)
    assert set(items) == {whisky, flag}
    bottle = items[whisky]
    assert (bottle["name"], bottle["base_unit"]) == ("Whisky", "cl")
    assert [d["sold"] for d in bottle["history"]] == list(4 * glasses + 6 * cocktails)
    assert not any(d["censored"] for d in bottle["history"])
    assert len(bottle["daily"]) == 7
    used = 4 * glasses + 6 * cocktails
    mean = sum(d["mean"] for d in bottle["daily"]) / 7
    assert 0.5 * used.mean() < mean < 1.5 * used.mean()
    assert bottle["stock"] == 30
    assert bottle["suggested_order_qty"] > 70
    packs = bottle["suggested_order_packs"]
    assert (packs["pack"], packs["size"]) == ("bouteille", 70)
    assert packs["packs"] * 70 + packs["units"] == bottle["suggested_order_qty"]
    assert 0 <= packs["units"] < 70

    # a product that is its own item: the item's figures are the product's, packs on both
    beer, beer_item = products[flag], items[flag]
    for key in ("model", "daily", "suggested_order_qty", "reorder_point", "days_until_stockout"):
        assert beer[key] == beer_item[key], key
    assert beer["suggested_order_qty"] > 24
    assert beer["suggested_order_packs"] == beer_item["suggested_order_packs"]
    assert beer["suggested_order_packs"]["pack"] == "casier"
    assert "suggested_order_packs" not in products[glass]  # its own item has no packs
    assert uuid.UUID(whisky) not in {uuid.UUID(p) for p in products}
