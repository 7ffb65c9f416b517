"""Low-stock thresholds and par of stock items given in packs (issue 15): stored in base units
with the item's packs (those the same request sets, else the item's); bad input is a 400
naming the field and writes nothing."""

from __future__ import annotations

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
