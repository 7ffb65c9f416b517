"""A phone loses the network: sales wait in the IndexedDB outbox, survive a reload served by
the service worker, and reach the server exactly once when the network returns."""

from __future__ import annotations

from tests.browser.devices import Devices
from tests.support import PASSWORD, Api


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


async def test_a_replayed_sale_the_server_refuses_is_kept_for_a_manager_to_resolve(
    api: Api, devices: Devices
) -> None:
    bar = await api.bar()
    wine = await api.product(bar, "Wine", stock=2, price=1500, low_threshold=1)
    staff = await api.member(bar, "staff")
    manager = await api.member(bar, "manager")
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

    # "will be sent automatically" is no longer true: the message says it was refused
    assert "refused" in (await page.text_content("#sell-feedback") or "")

    await page.reload()  # still there after closing the app
    entry = page.locator('.outbox-entry[data-status="rejected"]')
    await entry.wait_for()
    # money was taken for it: staff cannot erase it, only a manager resolves it
    assert await entry.locator("button", has_text="Dismiss").count() == 0
    await page.evaluate("window.scrollTo(0, 0)")
    await page.click("#pending-badge")  # the "⚠ 1" badge opens the list
    assert await page.evaluate("document.activeElement.id") == "outbox"
    await entry.locator("button.review").click()
    await entry.locator("input[name=manager-email]").fill(staff.email)
    await entry.locator("input[name=manager-password]").fill(PASSWORD)
    await entry.locator(".review-form button[type=submit]").click()
    await entry.locator(".error", has_text="not a manager").wait_for()
    await entry.locator("input[name=manager-email]").fill(manager.email)
    await entry.locator(".review-form button[type=submit]").click()
    await page.wait_for_selector("#pending-badge", state="hidden")
    assert await page.locator(".outbox-entry").count() == 0
    # the staff member is still the one logged in on this phone
    await phone.wait_stock(wine, 1)
    assert await page.locator("form.login").count() == 0
    resolved = await page.evaluate("""async () => {
      const db = await new Promise((ok) => {
        const r = indexedDB.open("bartender");
        r.onsuccess = () => ok(r.result);
      });
      const all = await new Promise((ok) => {
        const r = db.transaction("outbox").objectStore("outbox").getAll();
        r.onsuccess = () => ok(r.result);
      });
      return all.map((e) => [e.status, e.resolved_by && e.resolved_by.name]);
    }""")
    assert resolved == [["resolved", "Manager"]]  # kept as a record of who resolved it
