"""Refits cannot be forced at will (issue 12.22): alternating a backdated sale and a forecast
request must not refit every time. A bar is refitted at most once per interval and one refit
at a time; meanwhile its previous forecast answers, with today's stock."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import httpx
import pytest

from bartender.settings import Settings
from tests.forecast.support import business_today, give_past, restocked, weekly_demand
from tests.support import Api, Bar, eventually, make_settings, start_server


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, forecast_workers=0, forecast_refit_interval_s=3600.0)


async def forecast(api: Api, bar: Bar) -> dict[str, Any]:
    r = await api.http.get(
        f"/api/bars/{bar.id}/forecast", headers=bar.owner.headers, params={"horizon_days": 7}
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def history_bar(api: Api) -> tuple[Bar, str, dt.datetime]:
    """A bar with four weeks of history; also a moment of yesterday's business day."""
    bar = await api.bar()
    beer = await api.product(bar, "Flag", par_level=80)
    sales = weekly_demand(28, seed=4)
    await give_past(api.server, bar, {beer: (restocked(sales), sales)})
    await api.deliver(bar, {beer: 100})  # today's shelf, whatever the past left on it
    today = await business_today(api.server, bar)
    # Africa/Abidjan (the test bars' zone) is UTC+0
    yesterday = dt.datetime.combine(today - dt.timedelta(days=1), dt.time(21), tzinfo=dt.UTC)
    return bar, beer, yesterday


async def test_backdated_sales_cannot_force_refits(api: Api) -> None:
    bar, beer, yesterday = await history_bar(api)
    forecaster = api.server.rt.forecaster
    first = await forecast(api, bar)
    assert forecaster.fits_run == 1
    for i in range(4):
        at = yesterday + dt.timedelta(minutes=i)
        sold = await api.sell(bar, {beer: 1}, occurred_at=at.isoformat())
        assert sold.status_code == 201, sold.text
        answer = await forecast(api, bar)
        assert answer["fitted_at"] == first["fitted_at"]
        [product] = answer["products"]
        assert product["stock"] == first["products"][0]["stock"] - (i + 1)  # today's stock
    assert forecaster.fits_run == 1


async def test_the_cached_forecast_answers_while_a_refit_runs(database_url: str) -> None:
    no_interval = make_settings(database_url, forecast_workers=0, forecast_refit_interval_s=0.0)
    async with (
        start_server(no_interval) as server,
        httpx.AsyncClient(base_url=server.base_url) as http,
    ):
        api = Api(http, server)
        bar, beer, yesterday = await history_bar(api)
        forecaster = server.rt.forecaster
        first = await forecast(api, bar)
        sold = await api.sell(bar, {beer: 1}, occurred_at=yesterday.isoformat())
        assert sold.status_code == 201
        # the bar's refit lock held, as while another request refits this bar
        async with forecaster._locks[uuid.UUID(bar.id)]:  # noqa: SLF001
            answers = await asyncio.wait_for(
                asyncio.gather(*(forecast(api, bar) for _ in range(3))), timeout=5
            )
        assert {a["fitted_at"] for a in answers} == {first["fitted_at"]}
        assert forecaster.fits_run == 1
        # once it is free, the changed history is refitted, once
        refreshed = await forecast(api, bar)
        assert refreshed["fitted_at"] > first["fitted_at"] and forecaster.fits_run == 2


async def test_a_stale_forecast_is_refitted_after_the_interval(database_url: str) -> None:
    short = make_settings(database_url, forecast_workers=0, forecast_refit_interval_s=1.0)
    async with start_server(short) as server, httpx.AsyncClient(base_url=server.base_url) as http:
        api = Api(http, server)
        bar, beer, yesterday = await history_bar(api)
        first = await forecast(api, bar)
        sold = await api.sell(bar, {beer: 1}, occurred_at=yesterday.isoformat())
        assert sold.status_code == 201

        async def refitted() -> bool:
            return (await forecast(api, bar))["fitted_at"] > first["fitted_at"]

        await eventually(refitted, within=10, every=0.2, what="a refit after the interval")
        assert server.rt.forecaster.fits_run == 2
