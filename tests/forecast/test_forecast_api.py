"""GET /api/bars/{bar_id}/forecast over a real server and a backfilled ledger."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo

import numpy as np
import pytest

from tests.forecast.support import business_today, give_past, restocked, weekly_demand
from tests.support import Api

KEYS = {
    "product_id",
    "model",
    "daily",
    "days_until_stockout",
    "reorder_point",
    "safety_stock",
    "suggested_order_qty",
}


async def _forecast(api: Api, bar, user=None, **params):  # type: ignore[no-untyped-def]
    return await api.http.get(
        f"/api/bars/{bar.id}/forecast", headers=(user or bar.owner).headers, params=params
    )


async def test_shape_roles_and_invariants(api: Api) -> None:
    bar = await api.bar()
    beer = await api.product(bar, "Flag", par_level=120)
    whisky = await api.product(bar, "Whisky", par_level=6)
    sales = weekly_demand(42, seed=1)
    rare = (np.random.default_rng(2).random(42) < 0.2).astype(np.int64) * 2
    await give_past(
        api.server, bar, {beer: (restocked(sales), sales), whisky: (restocked(rare, 10), rare)}
    )
    manager, staff, stranger = (
        await api.member(bar, "manager"),
        await api.member(bar, "staff"),
        await api.user(),
    )
    today = await business_today(api.server, bar)

    r = await _forecast(api, bar, manager, horizon_days=21)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= {"generated_at", "horizon_days", "products"}
    assert body["horizon_days"] == 21
    assert {p["product_id"] for p in body["products"]} == {beer, whisky}
    for product in body["products"]:
        assert set(product) >= KEYS
        assert len(product["daily"]) == 21
        assert [d["date"] for d in product["daily"]] == [
            (today + dt.timedelta(days=i)).isoformat() for i in range(1, 22)
        ]
        for day in product["daily"]:
            assert 0 <= day["p10"] <= day["p50"] <= day["p90"]
        for key in ("reorder_point", "safety_stock", "suggested_order_qty"):
            assert isinstance(product[key], int) and product[key] >= 0
        assert product["days_until_stockout"] is None or product["days_until_stockout"] >= 0
    by_id = {p["product_id"]: p for p in body["products"]}
    assert by_id[beer]["family"] == "smooth"
    assert by_id[whisky]["family"] == "intermittent"
    # a busy beer's forecast follows its week: Saturday above Monday
    by_weekday = {dt.date.fromisoformat(d["date"]).weekday(): d for d in by_id[beer]["daily"]}
    assert by_weekday[5]["mean"] > by_weekday[0]["mean"]

    assert (await _forecast(api, bar)).json()["horizon_days"] == 14  # owner, default horizon
    assert len((await _forecast(api, bar, horizon_days=60)).json()["products"][0]["daily"]) == 60
    assert len((await _forecast(api, bar, horizon_days=1)).json()["products"][0]["daily"]) == 1
    for bad in (0, 61, -1, "x"):
        r = await _forecast(api, bar, horizon_days=bad)
        assert r.status_code == 400 and r.json()["type"] == "invalid_request", r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    r = await _forecast(api, bar, staff)
    assert r.status_code == 403 and r.json()["type"] == "forbidden"
    r = await _forecast(api, bar, stranger)
    assert r.status_code == 404 and r.json()["type"] == "not_found"
    r = await api.http.get(f"/api/bars/{uuid.uuid4()}/forecast", headers=manager.headers)
    assert r.status_code == 404
    r = await api.http.get(f"/api/bars/{bar.id}/forecast")
    assert r.status_code == 401


async def test_dates_follow_the_bars_business_day(api: Api) -> None:
    # UTC+14 with a 10:00 day start: the business day differs from the UTC date most hours
    bar = await api.bar(timezone="Pacific/Kiritimati", day_starts_at="10:00")
    await api.product(bar, "Flag", stock=10)
    local = dt.datetime.now(zoneinfo.ZoneInfo("Pacific/Kiritimati"))
    expected_today = (local - dt.timedelta(hours=10)).date()
    body = (await _forecast(api, bar, horizon_days=3)).json()
    assert body["business_date"] == expected_today.isoformat()
    assert (
        body["products"][0]["daily"][0]["date"]
        == (expected_today + dt.timedelta(days=1)).isoformat()
    )


async def test_short_and_empty_histories_get_the_labelled_simple_model(api: Api) -> None:
    bar = await api.bar()
    fresh = await api.product(bar, "New cocktail")  # never stocked: no history at all
    young = await api.product(bar, "Craft beer", par_level=40)
    sales = np.array([3, 4, 2, 5, 8, 9, 3])
    await give_past(api.server, bar, {young: (restocked(sales, 20), sales)})
    body = (await _forecast(api, bar, include_history=True)).json()
    by_id = {p["product_id"]: p for p in body["products"]}
    assert by_id[young]["model"] == "short_history_mean"
    assert by_id[young]["daily"][0]["mean"] == pytest.approx(sales.mean(), abs=0.01)
    assert len(by_id[young]["history"]) == 7
    assert by_id[fresh]["model"] == "short_history_mean"
    assert all(d["p90"] == 0 for d in by_id[fresh]["daily"])
    assert by_id[fresh]["days_until_stockout"] == 0  # nothing on the shelf


async def test_stockout_days_are_missing_not_zero_demand(api: Api) -> None:
    bar = await api.bar()
    beer = await api.product(bar, "Flag", par_level=100)
    days = 56
    sales = np.full(days, 10)
    arrivals = np.full(days, 10)
    arrivals[0] = 40
    # a late truck: no arrivals from day 28, the shelf empties on day 30 and stays empty
    # until day 37 (the 30 in reserve last three days)
    arrivals[28:37] = 0
    sales[31:37] = 0
    arrivals[37] = 40
    await give_past(api.server, bar, {beer: (arrivals, sales)})
    body = (await _forecast(api, bar, include_history=True, horizon_days=7)).json()
    product = body["products"][0]
    history = product["history"]
    censored = [h["date"] for h in history if h["censored"]]
    dates = [h["date"] for h in history]
    assert censored == dates[dates.index(censored[0]) :][:7]  # day 30 (emptied) + 6 empty days
    assert len(censored) == 7
    # counting the empty week as zero demand would pull the level well under 10
    assert all(9.0 <= d["mean"] <= 11.0 for d in product["daily"]), product["daily"]


async def test_stock_outlasting_the_horizon_has_no_stockout_day(api: Api) -> None:
    bar = await api.bar()
    beer = await api.product(bar, "Flag", par_level=10)
    sales = weekly_demand(28, seed=3, level=2.0)
    await give_past(api.server, bar, {beer: (restocked(sales, 5000), sales)})
    product = (await _forecast(api, bar, horizon_days=7)).json()["products"][0]
    assert product["days_until_stockout"] is None
    assert product["suggested_order_qty"] == 0
