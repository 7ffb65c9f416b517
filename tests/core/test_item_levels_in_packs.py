"""Low-stock thresholds and par of stock items given in packs (issue 15): stored in base units
with the item's packs (those the same request sets, else the item's); bad input is a 400
naming the field and writes nothing."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from tests.core.test_accounts import problem
from tests.support import Api, Bar


async def create(api: Api, bar: Bar, **body: Any) -> Any:
    return await api.http.post(
        f"/api/bars/{bar.id}/stock-items", headers=bar.owner.headers, json=body
    )


async def patch(api: Api, bar: Bar, item_id: str, **body: Any) -> Any:
    return await api.http.patch(
        f"/api/bars/{bar.id}/stock-items/{item_id}", headers=bar.owner.headers, json=body
    )


async def test_thresholds_and_par_in_packs_are_stored_in_base_units(api: Api) -> None:
    bar = await api.bar()
    r = await create(
        api,
        bar,
        name="Flag",
        base_unit="bouteille",
        packs=[{"name": "casier", "size": 24}, {"name": "pack", "size": 6}],
        low_threshold={"pack": "casier", "packs": 1},
        par_level={"pack": "casier", "packs": 5, "units": 6},
    )
    assert r.status_code == 201, r.text
    flag = r.json()
    assert (flag["low_threshold"], flag["par_level"]) == (24, 126)

    r = await patch(api, bar, flag["id"], par_level={"pack": "pack", "packs": 3})
    assert r.status_code == 200, r.text
    assert (r.json()["low_threshold"], r.json()["par_level"]) == (24, 18)
    # packs replaced in the same request: the level uses the new ones
    r = await patch(
        api,
        bar,
        flag["id"],
        packs=[{"name": "casier", "size": 12}],
        low_threshold={"pack": "casier", "packs": 2, "units": 1},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["low_threshold"], r.json()["par_level"]) == (25, 18)
    # base units keep working
    r = await patch(api, bar, flag["id"], par_level=100)
    assert (r.status_code, r.json()["par_level"]) == (200, 100)


async def test_bad_levels_in_packs_are_400_and_change_nothing(api: Api) -> None:
    bar = await api.bar()
    r = await create(
        api, bar, name="Whisky", base_unit="cl", packs=[{"name": "bouteille", "size": 70}]
    )
    assert r.status_code == 201, r.text
    whisky = r.json()
    # no such pack on this item: 400, and the rename beside it is not applied either
    r = await patch(
        api,
        bar,
        whisky["id"],
        name="Renamed",
        par_level={"pack": "casier", "packs": 2},
    )
    assert problem(r, 400, "invalid_request")["errors"][0]["field"] == "par_level.pack"
    r = await patch(api, bar, whisky["id"], low_threshold={"pack": "bouteille", "packs": 100_000})
    assert problem(r, 400, "invalid_request")["errors"][0]["field"] == "low_threshold"
    r = await patch(api, bar, whisky["id"], par_level={"pack": "bouteille", "packs": -1})
    assert problem(r, 400, "invalid_request")
    r = await create(api, bar, name="Rhum", par_level={"pack": "bouteille", "packs": 1})
    assert problem(r, 400, "invalid_request")["errors"][0]["field"] == "par_level.pack"
    items = await api.http.get(f"/api/bars/{bar.id}/stock-items", headers=bar.owner.headers)
    assert [
        (i["name"], i["low_threshold"], i["par_level"]) for i in items.json()["stock_items"]
    ] == [("Whisky", 0, 0)]


async def test_a_product_and_its_own_item_share_threshold_and_par(api: Api) -> None:
    """Edited on either screen, the product (whose alerts use it) and its item agree."""
    bar = await api.bar()
    flag = await api.product(bar, "Flag", low_threshold=5, par_level=24)
    whisky = (await create(api, bar, name="Whisky", base_unit="cl")).json()["id"]

    async def levels() -> tuple[tuple[int, int], tuple[int, int]]:
        products = (
            await api.http.get(f"/api/bars/{bar.id}/products", headers=bar.owner.headers)
        ).json()["products"]
        items = (
            await api.http.get(f"/api/bars/{bar.id}/stock-items", headers=bar.owner.headers)
        ).json()["stock_items"]
        product = next(p for p in products if p["id"] == flag)
        item = next(i for i in items if i["id"] == flag)
        return (product["low_threshold"], product["par_level"]), (
            item["low_threshold"],
            item["par_level"],
        )

    r = await patch(
        api,
        bar,
        flag,
        packs=[{"name": "casier", "size": 24}],
        par_level={"pack": "casier", "packs": 5},
    )
    assert r.status_code == 200, r.text
    assert await levels() == ((5, 120), (5, 120))
    r = await api.http.patch(
        f"/api/bars/{bar.id}/products/{flag}", headers=bar.owner.headers, json={"low_threshold": 12}
    )
    assert r.status_code == 200, r.text
    assert await levels() == ((12, 120), (12, 120))
    # an item of no product has no product to follow
    assert (await patch(api, bar, whisky, par_level=700)).status_code == 200

    # migration 0012 realigns a pair that drifted apart before it: the product's values win
    migration = Path(__file__).parents[2] / "migrations/tables/0012_own_item_levels.sql"
    async with api.server.rt.pool.acquire() as conn:
        await conn.execute("UPDATE stock_items SET par_level = 99 WHERE id = $1", uuid.UUID(flag))
        assert (await levels())[1] == (12, 99)
        await conn.execute(migration.read_text())
    assert await levels() == ((12, 120), (12, 120))
