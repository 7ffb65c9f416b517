"""Staff phones in a real browser: live stock across phones, the last-bottle race."""

from __future__ import annotations

import asyncio

from tests.browser.devices import Devices, live
from tests.support import Api


async def test_a_sale_shows_on_another_phone_within_a_second(api: Api, devices: Devices) -> None:
    bar = await api.bar(currency="XOF")
    beer = await api.product(bar, "Flag", stock=20, price=800, low_threshold=5)
    coca = await api.product(bar, "Coca", stock=3, price=500, low_threshold=5, category="Sodas")
    staff = await api.member(bar, "staff")
    seller = await devices.open(staff)
    watcher = await devices.open(staff)
    await live(seller)
    await live(watcher)
    assert await watcher.stock_shown(beer) == 20

    await seller.sell(beer, qty=2)
    await seller.page.wait_for_selector('#sell-feedback[data-outcome="sold"]')
    assert "1,600" in (await seller.page.text_content("#sell-feedback") or "")  # XOF: no decimals
    # the other phone sees the drop pushed over its websocket, not after a poll
    await watcher.wait_stock(beer, 18, within_ms=1000)
    assert (await api.stock(bar))[beer] == 18
    # colours: 18 > threshold is green, Coca at 3 <= 5 is amber
    assert await watcher.tile(beer).get_attribute("data-level") == "ok"
    assert await watcher.tile(coca).get_attribute("data-level") == "low"


async def test_two_phones_race_for_the_last_bottle(api: Api, devices: Devices) -> None:
    bar = await api.bar()
    whisky = await api.product(bar, "Whisky", stock=1, price=2500, low_threshold=2)
    staff = await api.member(bar, "staff")
    phones = [await devices.open(staff), await devices.open(staff)]
    for phone in phones:
        await phone.tile(whisky).click()
    await asyncio.gather(*(phone.page.click("#sell-button") for phone in phones))
    outcomes = []
    for phone in phones:
        feedback = phone.page.locator(
            '#sell-feedback:is([data-outcome="sold"], [data-outcome="insufficient"])'
        )
        await feedback.wait_for()
        outcomes.append(await feedback.get_attribute("data-outcome"))
    assert sorted(outcomes) == ["insufficient", "sold"]
    loser = phones[outcomes.index("insufficient")]
    # the loser is told it is sold out, the line leaves the basket, and the tile turns red
    assert await loser.page.text_content("#sell-feedback") == "Whisky sold out"
    assert await loser.page.locator(f'.line[data-product-id="{whisky}"]').count() == 0
    await loser.page.wait_for_selector(f'.tile[data-product-id="{whisky}"][data-level="out"]')
    assert (await api.stock(bar))[whisky] == 0
    sales = (await api.http.get(f"/api/bars/{bar.id}/sales", headers=bar.owner.headers)).json()
    assert len(sales["sales"]) == 1
