"""Returns, waste, empties and transfers in the app (issue 16): a staff phone asks at the till
for a return, which the manager's tablet (Returns & waste) approves; the tablet records a
breakage, refunds a customer's empty crate and sends stock to the manager's other bar; each
stock change reaches the staff phone live."""

from __future__ import annotations

from tests.browser.devices import TABLET, Devices, live
from tests.browser.test_manager_phone import go
from tests.support import Api


async def test_returns_waste_and_empties_from_the_tablet(api: Api, devices: Devices) -> None:
    bar = await api.bar()
    beer = await api.product(bar, "Flag", stock=20, price=600)
    manager = await api.member(bar, "manager")
    staff = await api.member(bar, "staff")
    sale = (await api.sell(bar, {beer: 3}, user=staff)).json()

    # the manager also manages a second bar of the owner's: stock can be sent there
    other = await api.bar(owner=bar.owner, name="Le Maquis")
    other_beer = await api.product(other, "Flag")
    r = await api.http.post(
        f"/api/bars/{other.id}/staff",
        headers=bar.owner.headers,
        json={"email": manager.email, "role": "manager"},
    )
    assert r.status_code == 201, r.text

    # the owner lets staff record waste: the till shows the form
    r = await api.http.patch(
        f"/api/bars/{bar.id}", headers=bar.owner.headers, json={"staff_may_record_waste": True}
    )
    assert r.status_code == 200, r.text

    phone = await devices.open(staff)
    tablet = await devices.open(manager, viewport=TABLET, ready=".bar-list")
    await tablet.page.click(".bar-list button >> text=Chez Test")
    await tablet.page.wait_for_selector("#stock-table")
    await live(phone)
    await live(tablet)
    await phone.wait_stock(beer, 17)

    # at the till, the staff phone asks for two bottles of that sale to be taken back
    till = phone.page
    await till.evaluate("location.hash = '#/till'")
    await till.locator(f'#return-form select[name=sale] option[value="{sale["id"]}"]').wait_for(
        state="attached"
    )
    await till.select_option("#return-form select[name=sale]", sale["id"])
    await till.select_option("#return-form select[name=product]", beer)
    await till.fill("#return-form input[name=qty]", "2")
    await till.fill("#return-form input[name=reason]", "tiède")
    await till.click("#return-form button[type=submit]")
    await till.wait_for_selector('#return-form .feedback[data-outcome="ok"]')
    assert "manager" in (await till.text_content("#return-form .feedback") or "")
    assert (await api.stock(bar))[beer] == 17  # only a request so far
    await till.wait_for_selector("#waste-form")
    await till.evaluate("location.hash = '#/sell'")
    page = tablet.page
    await page.click('a.tab[href="#/corrections"]')

    # the pending request, approved: the two bottles are back on the phone
    item = page.locator("#returns-pending li")
    await item.locator("button.primary").click()
    await phone.wait_stock(beer, 19, within_ms=3000)
    await page.wait_for_selector("#returns-pending li", state="detached")

    # a breakage with a reason
    await page.select_option("#waste-form select[name=product]", beer)
    await page.fill("#waste-form input[name=qty]", "4")
    await page.select_option("#waste-form select[name=kind]", "breakage")
    await page.fill("#waste-form input[name=reason]", "casier tombé")
    await page.click("#waste-form button[type=submit]")
    await page.wait_for_selector('#waste-form .feedback[data-outcome="ok"]')
    await phone.wait_stock(beer, 15, within_ms=3000)

    # the crate of 24 Flag, 2,000 F CFA deposit
    await page.fill("#container-form input[name=name]", "Casier 24")
    await page.fill("#container-form input[name=deposit]", "2000")
    await page.locator(f'#container-form select[name=item] option[value="{beer}"]').wait_for(
        state="attached"
    )
    await page.select_option("#container-form select[name=item]", beer)
    await page.fill("#container-form input[name=per]", "24")
    await page.click("#container-form button[type=submit]")
    await page.wait_for_selector('#container-form .feedback[data-outcome="ok"]')
    r = await api.http.get(f"/api/bars/{bar.id}/containers", headers=bar.owner.headers)
    [crate] = r.json()["containers"]
    assert (crate["deposit"], crate["contents"]) == (2000, [{"stock_item_id": beer, "qty": 24}])
    await page.locator(f'#empties-form option[value="{crate["id"]}"]').wait_for(state="attached")

    # a customer's empty crate at the till: the deposit refunded, the empties counted
    await page.select_option("#empties-form select[name=container]", crate["id"])
    await page.click("#empties-form button[type=submit]")
    await page.wait_for_selector('#empties-form .feedback[data-outcome="ok"]')
    assert "2,000" in (await page.text_content("#empties-form .feedback") or "")
    cell = page.locator(f'#empties-list td[data-empties="{crate["id"]}"]')
    await cell.filter(has_text="1").wait_for()

    # five bottles sent to the other bar, as its Flag (the same name is preselected)
    await page.select_option("#transfer-form select[name=product]", beer)
    await page.locator(
        f'#transfer-form select[name=to_product] option[value="{other_beer}"]'
    ).wait_for(state="attached")
    await page.fill("#transfer-form input[name=qty]", "5")
    await page.click("#transfer-form button[type=submit]")
    await page.wait_for_selector('#transfer-form .feedback[data-outcome="ok"]')
    await phone.wait_stock(beer, 10, within_ms=3000)
    assert (await api.stock(other))[other_beer] == 5

    # a delivery of a full crate that takes the empty one back (the supplier's balance: 0)
    await page.click('a.tab[href="#/delivery"]')
    await page.select_option("#delivery-lines .line-row:nth-child(1) select", beer)
    await page.fill("#delivery-lines .line-row:nth-child(1) input[name^=qty]", "24")
    await page.fill(f'#delivery-empties input[name="full-{crate["id"]}"]', "1")
    await page.fill(f'#delivery-empties input[name="out-{crate["id"]}"]', "1")
    await page.fill("input[name=supplier]", "Solibra")
    await page.click("#delivery-form button[type=submit]")
    await page.wait_for_selector('#delivery-feedback[data-outcome="ok"]')
    await phone.wait_stock(beer, 34, within_ms=3000)
    r = await api.http.get(f"/api/bars/{bar.id}/empties/balance", headers=bar.owner.headers)
    assert [
        (s["supplier"], s["full_in"], s["empties_out"], s["balance"]) for s in r.json()["suppliers"]
    ] == [("Solibra", 1, 1, 0)]

    # from the sales list, the manager takes back the last bottle of that sale at once
    await page.click('a.tab[href="#/sales"]')
    await page.click(f'li[data-sale-id="{sale["id"]}"] a.return')
    await page.wait_for_selector("#return-form")
    await page.locator(f'#return-form option[value="{sale["id"]}"]').wait_for(state="attached")
    assert await page.input_value("#return-form select[name=sale]") == sale["id"]
    await page.select_option("#return-form select[name=product]", beer)
    await page.fill("#return-form input[name=reason]", "bouchon")
    await page.click("#return-form button[type=submit]")
    await page.wait_for_selector('#return-form .feedback[data-outcome="ok"]')
    await phone.wait_stock(beer, 35, within_ms=3000)

    movements = (
        await api.http.get(
            f"/api/bars/{bar.id}/movements?product_id={beer}", headers=bar.owner.headers
        )
    ).json()["movements"]
    assert [(m["kind"], m["delta"]) for m in movements][-5:] == [
        ("return", 2),
        ("breakage", -4),
        ("transfer_out", -5),
        ("delivery", 24),
        ("return", 1),
    ]


async def test_the_owner_lets_staff_record_waste_from_the_bar_settings(
    api: Api, devices: Devices
) -> None:
    bar = await api.bar()
    await api.product(bar, "Flag", stock=5)
    tablet = await devices.open(bar.owner, viewport=TABLET, ready="#stock-table")
    await go(tablet, "settings")
    await tablet.page.check("#bar-settings-form input[name=staff_may_record_waste]")
    await tablet.page.click("#bar-settings-form button[type=submit]")
    await tablet.page.wait_for_selector('#settings-feedback[data-outcome="ok"]')
    saved = (await api.http.get(f"/api/bars/{bar.id}", headers=bar.owner.headers)).json()
    assert saved["staff_may_record_waste"] is True


async def test_a_take_away_sale_charges_the_deposit_on_the_receipt(
    api: Api, devices: Devices
) -> None:
    bar = await api.bar()
    beer = await api.product(bar, "Flag", stock=10, price=600)
    r = await api.http.post(
        f"/api/bars/{bar.id}/containers",
        headers=bar.owner.headers,
        json={
            "name": "Bouteille 65 cl",
            "deposit": 100,
            "contents": [{"stock_item_id": beer, "qty": 1}],
        },
    )
    assert r.status_code == 201, r.text
    phone = await devices.open(await api.member(bar, "staff"))
    other = await devices.open(await api.member(bar, "staff"))
    await live(phone)
    await live(other)

    page = phone.page
    await phone.tile(beer).click()
    await phone.tile(beer).click()
    await page.check("#take-away")
    await page.click("#sell-button")
    await page.wait_for_selector('#sell-feedback[data-outcome="sold"]')
    await other.wait_stock(beer, 8)  # seen live on another phone
    assert not await page.is_checked("#take-away")  # the next basket is on the premises
    await page.click("#show-receipt")
    await page.locator("#receipt").wait_for()
    assert "200" in (await page.text_content("#receipt-deposit") or "")
    assert "1,400" in (await page.text_content("#receipt-to-pay") or "")
    r = await api.http.get(f"/api/bars/{bar.id}/containers", headers=bar.owner.headers)
    assert [c["empties"] for c in r.json()["containers"]] == [0]  # the bottles left with them
