"""The manager's tablet: a delivery reaches the staff phone live; a count shows its variance
and value before it is confirmed."""

from __future__ import annotations

from tests.browser.devices import TABLET, Devices, live
from tests.support import Api


async def test_delivery_and_count_from_the_tablet_update_the_phone(
    api: Api, devices: Devices
) -> None:
    bar = await api.bar(currency="EUR", timezone="Europe/Paris")
    beer = await api.product(bar, "Leffe", stock=10, price=450, low_threshold=4)
    await api.product(bar, "Perrier", stock=6, price=300, category="Softs")
    manager = await api.member(bar, "manager")
    staff = await api.member(bar, "staff")
    phone = await devices.open(staff)
    tablet = await devices.open(manager, viewport=TABLET, ready="#stock-table")
    await live(phone)
    await live(tablet)
    assert await phone.tile(beer).locator(".price").text_content() == "€4.50"  # EUR: 2 decimals

    # a two-line delivery
    page = tablet.page
    await page.click('a.tab[href="#/delivery"]')
    await page.select_option("#delivery-lines .line-row:nth-child(1) select", beer)
    await page.fill("#delivery-lines .line-row:nth-child(1) input", "12")
    await page.click("#add-line")
    await page.select_option("#delivery-lines .line-row:nth-child(2) select", label="Leffe (10)")
    await page.fill("#delivery-lines .line-row:nth-child(2) input", "3")
    await page.fill("input[name=reference]", "BL-42")
    await page.click("#delivery-form button[type=submit]")
    await page.wait_for_selector('#delivery-feedback[data-outcome="ok"]')
    await phone.wait_stock(beer, 25, within_ms=2000)

    # a count: 2 bottles missing, worth 2 x 4.50 EUR
    await page.click('a.tab[href="#/count"]')
    row = page.locator(f'#count-table tr[data-product-id="{beer}"]')
    assert await row.locator(".expected").text_content() == "25"
    await row.locator("input").fill("23")
    assert await row.locator(".variance").text_content() == "-2"
    assert await row.locator(".value").text_content() == "-€9.00"
    await page.click("#count-review")
    confirm = page.locator("#count-summary .confirm")
    assert "Leffe: 25 → 23" in (await confirm.text_content() or "")
    assert await page.text_content("#count-total-value") == "-€9.00"
    assert (await api.stock(bar))[beer] == 25  # nothing sent before confirming
    await page.click("#count-confirm")
    await page.wait_for_selector('#count-feedback[data-outcome="ok"]')
    await phone.wait_stock(beer, 23, within_ms=2000)

    assert (await api.stock(bar))[beer] == 23
    ledger = (
        await api.http.get(
            f"/api/bars/{bar.id}/movements?product_id={beer}", headers=bar.owner.headers
        )
    ).json()["movements"]
    assert [(m["kind"], m["delta"]) for m in ledger] == [
        ("delivery", 10),
        ("delivery", 15),
        ("count", -2),
    ]
    # the stock table on the tablet followed along
    await page.click('a.tab[href="#/stock"]')
    stock_cell = page.locator(f'#stock-table tr[data-product-id="{beer}"] .stock')
    assert await stock_cell.text_content() == "23"
