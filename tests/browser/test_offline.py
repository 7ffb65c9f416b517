"""A phone loses the network: sales wait in the IndexedDB outbox, survive a reload served by
the service worker, and reach the server exactly once when the network returns."""

from __future__ import annotations

from tests.browser.devices import Devices
from tests.support import Api


async def test_offline_sales_survive_a_reload_and_are_sent_exactly_once(
    api: Api, devices: Devices
) -> None:
    bar = await api.bar()
    beer = await api.product(bar, "Flag", stock=10)
    soda = await api.product(bar, "Coca", stock=10, category="Sodas")
    staff = await api.member(bar, "staff")
    phone = await devices.open(staff)
    await phone.wait_worker_active()
    page = phone.page

    await phone.context.set_offline(True)
    await page.wait_for_selector('#conn-badge[data-state="offline"]')
    for product, qty in ((beer, 2), (soda, 1), (beer, 1)):
        await phone.sell(product, qty)
        await page.wait_for_selector('#sell-feedback[data-outcome="pending"]')
        await page.evaluate("document.getElementById('sell-feedback').dataset.outcome = ''")
    await page.wait_for_selector('#pending-badge[data-pending="3"]')
    assert (await api.stock(bar)) == {beer: 10, soda: 10}  # nothing reached the server

    # close and reopen while offline: the shell comes from the service worker's cache and
    # the outbox from IndexedDB
    await page.reload()
    await page.wait_for_selector('.outbox-entry[data-status="pending"] >> nth=2')
    assert await page.locator(".outbox-entry").count() == 3
    sale_ids = await page.locator(".outbox-entry").evaluate_all(
        "entries => entries.map(e => e.dataset.saleId)"
    )
    assert await phone.tile(beer).locator(".pending-mark").text_content() == "⏳3"

    await phone.context.set_offline(False)
    await page.wait_for_selector("#pending-badge", state="hidden", timeout=15000)
    assert await page.locator(".outbox-entry").count() == 0
    await phone.wait_stock(beer, 7)

    assert (await api.stock(bar)) == {beer: 7, soda: 9}
    listed = (await api.http.get(f"/api/bars/{bar.id}/sales", headers=bar.owner.headers)).json()
    assert sorted(s["id"] for s in listed["sales"]) == sorted(sale_ids)  # each exactly once
    # replayed in the order they were made: receipt numbers follow the outbox order
    by_number = sorted(listed["sales"], key=lambda s: s["number"])
    assert [s["id"] for s in by_number] == sale_ids
    assert all(s["occurred_at"] for s in listed["sales"])


async def test_a_replayed_sale_the_server_refuses_is_kept_for_review(
    api: Api, devices: Devices
) -> None:
    bar = await api.bar()
    wine = await api.product(bar, "Wine", stock=2, price=1500, low_threshold=1)
    staff = await api.member(bar, "staff")
    phone = await devices.open(staff)
    page = phone.page

    await phone.context.set_offline(True)
    await page.wait_for_selector('#conn-badge[data-state="offline"]')
    await phone.sell(wine, 2)
    await page.wait_for_selector('#sell-feedback[data-outcome="pending"]')
    # meanwhile the bar sold one glass from another device
    assert (await api.sell(bar, {wine: 1})).status_code == 201

    await phone.context.set_offline(False)
    refused = page.locator('.outbox-entry[data-status="rejected"]')
    await refused.wait_for(timeout=15000)
    assert "only 1 left" in (await refused.text_content() or "")
    assert await page.get_attribute("#pending-badge", "data-rejected") == "1"
    assert (await api.stock(bar))[wine] == 1  # the server's answer wins: nothing was sold

    await page.reload()  # still there after closing the app
    await page.wait_for_selector('.outbox-entry[data-status="rejected"]')
    await page.click('.outbox-entry[data-status="rejected"] button')  # reviewed: dismiss
    await page.wait_for_selector("#pending-badge", state="hidden")
    assert await page.locator(".outbox-entry").count() == 0
