"""The manager's tablet: the forecast screen charts history and the forecast band, and turns
the suggestions into a delivery the manager edits before recording it."""

from __future__ import annotations

from tests.browser.devices import TABLET, Devices
from tests.forecast.support import give_past, restocked, weekly_demand
from tests.support import Api


async def test_forecast_screen_charts_and_creates_a_delivery(api: Api, devices: Devices) -> None:
    bar = await api.bar()
    beer = await api.product(bar, "Flag 65 cl", par_level=120)
    soda = await api.product(bar, "Coca-Cola", par_level=40)
    beer_sales = weekly_demand(28, seed=1, level=12.0)
    soda_sales = weekly_demand(28, seed=2, level=3.0)
    await give_past(
        api.server,
        bar,
        {
            beer: (restocked(beer_sales, 4), beer_sales),
            soda: (restocked(soda_sales, 400), soda_sales),
        },
    )
    forecast = (
        await api.http.get(
            f"/api/bars/{bar.id}/forecast", headers=bar.owner.headers, params={"horizon_days": 14}
        )
    ).json()
    suggested = {p["product_id"]: p["suggested_order_qty"] for p in forecast["products"]}
    assert suggested[beer] > 0 and suggested[soda] == 0

    manager = await api.member(bar, "manager")
    tablet = await devices.open(manager, viewport=TABLET, ready="#stock-table")
    page = tablet.page
    await page.click('a.tab[href="#/forecast"]')
    await page.wait_for_selector(".forecast-card svg.forecast-chart polygon.band")

    # soonest out of stock first: the beer with 4 left
    cards = page.locator(".forecast-card")
    assert await cards.count() == 2
    assert await cards.nth(0).get_attribute("data-product-id") == beer
    chart = cards.nth(0).locator("svg.forecast-chart")
    assert await chart.locator("rect.sold").count() == 28  # 4 weeks of history
    points = (await chart.locator("polygon.band").get_attribute("points") or "").split()
    assert len(points) == 2 * 14  # P90 along the 14 days ahead, then P10 back
    assert await chart.locator("polyline.p50").count() == 1
    gauge = cards.nth(0).locator("svg.stock-gauge")
    assert await gauge.locator(".mark.rop").count() == 1
    assert await gauge.locator(".mark.ss").count() == 1
    assert await cards.nth(0).locator(".suggested").text_content() == str(suggested[beer])

    # the suggestions pre-fill a delivery; the manager orders 5 more than suggested
    await page.click("#forecast-create-delivery")
    line = page.locator(f'#forecast-delivery .line-row[data-product-id="{beer}"] input')
    assert await line.input_value() == str(suggested[beer])
    assert await page.locator("#forecast-delivery .line-row").count() == 1
    await line.fill(str(suggested[beer] + 5))
    await page.fill("#forecast-delivery input[name=reference]", "BL-77")
    await page.click("#forecast-delivery-submit")
    await page.wait_for_selector('#forecast-delivery-feedback[data-outcome="ok"]')
    assert (await api.stock(bar))[beer] == 4 + suggested[beer] + 5
