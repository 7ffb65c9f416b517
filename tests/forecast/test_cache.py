"""The per-bar cache: warm answers follow today's stock, refits happen when history changes."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import asyncpg

from tests.forecast.support import business_today, give_past, restocked, weekly_demand
from tests.support import Api, make_settings, start_server

EARLIER_SALE = (
    "SELECT id FROM sales WHERE bar_id = $1 AND business_date < $2 ORDER BY number LIMIT 1"
)


async def _get(api: Api, bar) -> dict:  # type: ignore[no-untyped-def]
    r = await api.http.get(
        f"/api/bars/{bar.id}/forecast", headers=bar.owner.headers, params={"horizon_days": 7}
    )
    assert r.status_code == 200, r.text
    return {p["product_id"]: p for p in r.json()["products"]} | {"_": r.json()}


async def test_cache_holds_for_the_day_and_refits_when_history_changes(api: Api) -> None:
    bar = await api.bar()
    beer = await api.product(bar, "Flag", par_level=80)
    sales = weekly_demand(28, seed=4)
    await give_past(api.server, bar, {beer: (restocked(sales), sales)})
    forecaster = api.server.rt.forecaster
    today = await business_today(api.server, bar)

    first = await _get(api, bar)
    assert forecaster.fits_run == 1
    stock = first[beer]["stock"]

    # today's sales move the stock, not the history: answered from the cache
    sale = await api.sell(bar, {beer: 3})
    assert sale.status_code == 201
    warm = await _get(api, bar)
    assert forecaster.fits_run == 1
    assert warm[beer]["stock"] == stock - 3
    assert warm["_"]["fitted_at"] == first["_"]["fitted_at"]
    assert (
        await api.http.post(
            f"/api/bars/{bar.id}/sales/{sale.json()['id']}/void",
            headers=bar.owner.headers,
            json={"reason": "test"},
        )
    ).status_code == 200
    await _get(api, bar)
    assert forecaster.fits_run == 1  # a void of today's sale: still today's business

    # a new product is fitted alone, the others keep their fit
    soda = await api.product(bar, "Coca", stock=12)
    added = await _get(api, bar)
    assert forecaster.fits_run == 2
    assert added[soda]["model"] == "short_history_mean"
    assert added["_"]["fitted_at"] == first["_"]["fitted_at"]

    # an offline sale from yesterday changes the history: refit
    yesterday_evening = dt.datetime.combine(
        today - dt.timedelta(days=1), dt.time(21, 0), tzinfo=dt.UTC
    )  # Africa/Abidjan is UTC+0
    r = await api.sell(bar, {beer: 2}, occurred_at=yesterday_evening.isoformat())
    assert r.status_code == 201 and r.json()["business_date"] < today.isoformat()
    refitted = await _get(api, bar)
    assert forecaster.fits_run == 3
    assert refitted["_"]["fitted_at"] > first["_"]["fitted_at"]

    # voiding a sale of an earlier business day changes the history: refit
    conn = await asyncpg.connect(api.server.rt.settings.database_url)
    try:
        old_sale = await conn.fetchval(EARLIER_SALE, uuid.UUID(bar.id), today)
    finally:
        await conn.close()
    r = await api.http.post(
        f"/api/bars/{bar.id}/sales/{old_sale}/void",
        headers=bar.owner.headers,
        json={"reason": "wrong table"},
    )
    assert r.status_code == 200, r.text
    await _get(api, bar)
    assert forecaster.fits_run == 4

    # the next business day: yesterday's fit is stale
    entry = forecaster.cached(uuid.UUID(bar.id))
    assert entry is not None and entry.today == today
    entry.today = today - dt.timedelta(days=1)  # what the cache holds after the day turns
    await _get(api, bar)
    assert forecaster.fits_run == 5

    # so does a change of the bar's day
    r = await api.http.patch(
        f"/api/bars/{bar.id}", headers=bar.owner.headers, json={"day_starts_at": "05:00"}
    )
    assert r.status_code == 200, r.text
    await _get(api, bar)
    assert forecaster.fits_run == 6


async def test_concurrent_cold_requests_share_one_fit(api: Api) -> None:
    bar = await api.bar()
    beer = await api.product(bar, "Flag")
    sales = weekly_demand(21, seed=9)
    await give_past(api.server, bar, {beer: (restocked(sales), sales)})
    answers = await asyncio.gather(*(_get(api, bar) for _ in range(4)))
    assert api.server.rt.forecaster.fits_run == 1
    assert len({a["_"]["fitted_at"] for a in answers}) == 1


async def test_fitting_runs_in_worker_processes(database_url: str) -> None:
    async with start_server(make_settings(database_url, forecast_workers=2)) as server:
        import httpx

        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
            api = Api(http, server)
            bar = await api.bar()
            beer = await api.product(bar, "Flag", par_level=60)
            whisky = await api.product(bar, "Whisky", par_level=6)
            sales = weekly_demand(35, seed=2)
            await give_past(
                server,
                bar,
                {beer: (restocked(sales), sales), whisky: (restocked(sales // 10, 5), sales // 10)},
            )
            body = await _get(api, bar)
            assert {body[beer]["family"], body[whisky]["family"]} <= {"smooth", "intermittent"}
            pool = server.rt.forecaster._executor
            assert pool is not None and len(pool._processes) >= 1  # noqa: SLF001
