"""Stock items in the app (issue 15): a delivery of 10 casiers in one line is 240 bottles on
the shelf and on the staff phone; a Whisky bottle item made on the stock items screen, in cl
with a 70 cl bottle pack, and a glass recipe of 4 cl picked from it; glasses sell until the
bottle's centilitres run out, the other phone follows live and its last glass is refused
("épuisé", in French)."""

from __future__ import annotations

from playwright.async_api import Page

from tests.browser.devices import PHONE, TABLET, App, Devices, live
from tests.browser.test_manager_phone import assert_fits, go
from tests.browser.test_onboarding import new_device
from tests.forecast.support import give_past, restocked, weekly_demand
from tests.support import PASSWORD, Api, User


async def open_in_french(devices: Devices, user: User) -> App:
    app = await new_device(devices, PHONE, locale="fr-FR")
    await app.page.fill("input[name=email]", user.email)
    await app.page.fill("input[name=password]", PASSWORD)
    await app.page.click("form.login button[type=submit]")
    await app.page.wait_for_selector(".tile")
    return app


async def item_row_stock(page: Page, name: str) -> str:
    row = page.locator("#items-table tbody tr", has=page.locator(f"th:text-is('{name}')"))
    return (await row.locator(".stock").text_content() or "").strip()


async def test_ten_casiers_in_one_line_and_glasses_until_the_bottle_runs_out(
    api: Api, devices: Devices
) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag", price=800)
    glass = await api.product(bar, "Whisky (verre)", price=1500, category="Spiritueux")
    # Flag is its own stock item (same id): bought by the casier of 24 bouteilles
    r = await api.http.patch(
        f"/api/bars/{bar.id}/stock-items/{flag}",
        headers=bar.owner.headers,
        json={"base_unit": "bouteille", "packs": [{"name": "casier", "size": 24}]},
    )
    assert r.status_code == 200, r.text
    r = await api.http.post(
        f"/api/bars/{bar.id}/stock-items",
        headers=bar.owner.headers,
        json={"name": "Citron vert", "base_unit": "pièce"},
    )
    assert r.status_code == 201, r.text
    lime = r.json()["id"]
    manager = await api.member(bar, "manager")
    staff = await api.member(bar, "staff")

    phone = await devices.open(staff)
    tablet = await devices.open(manager, viewport=TABLET, ready="#stock-table")
    await live(phone)
    await live(tablet)
    page = tablet.page

    # 10 casiers in one delivery line
    await page.click('a.tab[href="#/delivery"]')
    first = "#delivery-lines .line-row:nth-child(1)"
    await page.select_option(f"{first} select[name^=product]", flag)
    await page.wait_for_selector(
        f"{first} select[name^=pack] option[value=casier]", state="attached"
    )
    await page.fill(f"{first} input[name^=packs]", "10")
    await page.click("#delivery-form button[type=submit]")
    await page.wait_for_selector('#delivery-feedback[data-outcome="ok"]')
    await phone.wait_stock(flag, 240, within_ms=3000)
    assert (await api.stock(bar))[flag] == 240

    # the Whisky bottle, made on the stock items screen: cl, a bouteille of 70
    await page.click('a.tab[href="#/items"]')
    await page.wait_for_selector("#items-table tbody tr")
    assert await item_row_stock(page, "Flag") == "240 bouteille · 10 × casier"
    # an item that is no product is retired here (a product's own item follows its product)
    flag_row = page.locator(f'#items-table tr[data-item-id="{flag}"]')
    assert await flag_row.get_by_role("button", name="Deactivate").count() == 0
    await (
        page.locator(f'#items-table tr[data-item-id="{lime}"]')
        .get_by_role("button", name="Deactivate")
        .click()
    )
    await page.wait_for_selector(f'#items-table tr.inactive[data-item-id="{lime}"]')
    await page.click("#new-item")
    await page.fill("#item-form input[name=name]", "Whisky")
    await page.fill("#item-form input[name=base_unit]", "cl")
    await page.click("#add-pack")
    await page.fill("#item-form .pack-name", "bouteille")
    await page.click("#item-form button[type=submit]")  # a pack with no size: refused beside it
    await page.wait_for_selector('#item-form .pack-size[aria-invalid="true"]')
    assert (await page.text_content("#item-form .pack-row .field-error") or "").strip()
    await page.fill("#item-form .pack-size", "70")
    await page.click("#item-form button[type=submit]")
    await page.wait_for_selector('#items-feedback[data-outcome="ok"]')
    await page.wait_for_selector("#items-table th:text-is('Whisky')")

    # a glass takes 4 cl of it
    await page.click("#edit-recipe")
    await page.select_option("#recipe-form select[name=recipe_product]", glass)
    whisky = await page.locator(
        "#recipe-form .component-item option", has_text="Whisky (cl)"
    ).get_attribute("value")
    assert whisky
    await page.select_option("#recipe-form .component-item", whisky)
    await page.fill("#recipe-form .component-qty", "4")
    await page.click("#recipe-form button[type=submit]")
    await page.wait_for_selector('#items-feedback[data-outcome="ok"]:has-text("Whisky (verre)")')
    recipes = (await api.http.get(f"/api/bars/{bar.id}/recipes", headers=bar.owner.headers)).json()[
        "recipes"
    ]
    assert {"stock_item_id": whisky, "qty": 4} in next(
        r["components"] for r in recipes if r["product_id"] == glass
    )

    # one bottle delivered as a pack: 70 cl, 17 glasses (2 cl stay in the bottle)
    await page.click('a.tab[href="#/delivery"]')
    await page.select_option(f"{first} select[name^=product]", whisky)
    # the glass is not restocked itself: its whisky bottle is; a retired item is not offered
    assert await page.locator(f'{first} option[value="{glass}"]').count() == 0
    assert await page.locator(f'{first} option[value="{lime}"]').count() == 0
    await page.fill(f"{first} input[name^=packs]", "1")
    await page.click("#delivery-form button[type=submit]")
    await page.wait_for_selector('#delivery-feedback[data-outcome="ok"]')
    await phone.wait_stock(glass, 17, within_ms=3000)

    # a second staff phone, in French, sees the same availability live
    other = await open_in_french(devices, staff)
    await live(other)
    await other.wait_stock(glass, 17)

    await phone.sell(glass, 16)
    await phone.page.wait_for_selector('#sell-feedback[data-outcome="sold"]')
    await other.wait_stock(glass, 1, within_ms=3000)
    # both phones take the last glass; the first sells it, the other is refused
    await other.tile(glass).click()
    await phone.sell(glass)
    await other.wait_stock(glass, 0, within_ms=3000)
    assert await other.tile(glass).is_disabled()
    await other.page.click("#sell-button")
    feedback = other.page.locator('#sell-feedback[data-outcome="insufficient"]')
    await feedback.wait_for()
    assert "Whisky (verre) épuisé" in (await feedback.text_content() or "")
    assert (await api.stock(bar))[glass] == 0
    items = (
        await api.http.get(f"/api/bars/{bar.id}/stock-items", headers=bar.owner.headers)
    ).json()["stock_items"]
    assert next(i["stock"] for i in items if i["id"] == whisky) == 2  # 70 - 17 x 4 cl

    # the stock items screen followed: 2 cl left
    await page.click('a.tab[href="#/items"]')
    await page.wait_for_selector("#items-table th:text-is('Whisky')")
    assert await item_row_stock(page, "Whisky") == "2 cl"

    # a count in packs: Flag "9 casiers + 5" (221, 19 missing), Whisky "3/10" of a bottle (21 cl)
    await page.click('a.tab[href="#/count"]')
    flag_row = page.locator(f'#count-table tr[data-product-id="{flag}"]')
    await flag_row.locator(f"[name=packs-{flag}]").fill("9")
    await flag_row.locator(f"[name=counted-{flag}]").fill("5")
    assert await flag_row.locator(".variance").text_content() == "-19"
    whisky_row = page.locator(f'#count-table tr[data-item-id="{whisky}"]')
    assert await whisky_row.locator(".expected").text_content() == "2"
    await whisky_row.locator(f"[name=tenths-{whisky}]").fill("3")
    assert await whisky_row.locator(".variance").text_content() == "+19"
    assert await page.locator(f'#count-table tr[data-product-id="{glass}"]').count() == 0
    await page.click("#count-review")
    await page.click("#count-confirm")
    await page.wait_for_selector('#count-feedback[data-outcome="ok"]')
    await phone.wait_stock(flag, 221, within_ms=3000)
    await other.wait_stock(glass, 5, within_ms=3000)  # 21 cl: 5 glasses of 4 cl

    # the stock items screen follows sales made on a phone
    await page.click('a.tab[href="#/items"]')
    await page.wait_for_selector(f'#items-table tr[data-item-id="{whisky}"][data-stock="21"]')
    await phone.sell(flag)
    await phone.sell(glass, 2)
    await page.wait_for_selector(
        f'#items-table tr[data-item-id="{whisky}"][data-stock="13"]', timeout=3000
    )
    assert await item_row_stock(page, "Flag") == "220 bouteille · 9 × casier + 4"

    # the stock items screen fits a phone, with 44 px targets
    manager_phone = await devices.open(manager, viewport=PHONE)
    await go(manager_phone, "items")
    await manager_phone.page.wait_for_selector("#items-table tbody tr")
    await assert_fits(manager_phone.page, "items")
    await go(manager_phone, "count")  # packs and tenths fit beside the units
    await manager_phone.page.wait_for_selector(f"[name=tenths-{whisky}]")
    await assert_fits(manager_phone.page, "count")
    await go(manager_phone, "delivery")
    await manager_phone.page.select_option(f"{first} select[name^=product]", flag)
    await manager_phone.page.wait_for_selector(f"{first} [name^=packs]")
    await assert_fits(manager_phone.page, "delivery")
    # in French too (longer labels)
    await manager_phone.page.click("#lang-switch")
    await manager_phone.page.locator("html[lang='fr']").wait_for(state="attached")
    for screen, ready in (("items", "#items-table tbody tr"), ("count", f"[name=tenths-{whisky}]")):
        await go(manager_phone, screen)
        await manager_phone.page.wait_for_selector(ready)
        await assert_fits(manager_phone.page, f"{screen} (fr)")
    tenths = manager_phone.page.locator(f"label:has([name=tenths-{whisky}]) span")
    assert await tenths.text_content() == "Dixièmes"


async def test_the_forecast_suggests_an_order_in_whole_casiers(api: Api, devices: Devices) -> None:
    bar = await api.bar()
    beer = await api.product(bar, "Flag", par_level=120)
    r = await api.http.patch(
        f"/api/bars/{bar.id}/stock-items/{beer}",
        headers=bar.owner.headers,
        json={"base_unit": "bouteille", "packs": [{"name": "casier", "size": 24}]},
    )
    assert r.status_code == 200, r.text
    sales = weekly_demand(28, seed=1, level=12.0)
    await give_past(api.server, bar, {beer: (restocked(sales, 4), sales)})
    forecast = (
        await api.http.get(
            f"/api/bars/{bar.id}/forecast", headers=bar.owner.headers, params={"horizon_days": 14}
        )
    ).json()
    suggested = next(p for p in forecast["products"] if p["product_id"] == beer)
    qty = suggested["suggested_order_qty"]
    assert qty > 0
    casiers = -(-qty // 24)

    manager = await api.member(bar, "manager")
    tablet = await devices.open(manager, viewport=TABLET, ready="#stock-table")
    await tablet.page.click('a.tab[href="#/forecast"]')
    card = tablet.page.locator(f'.forecast-card[data-product-id="{beer}"]')
    await card.wait_for()
    assert await card.locator(".suggested").text_content() == str(qty)
    # the server's suggestion in packs: the largest pack that fits, plus loose bottles
    packs = suggested["suggested_order_packs"]
    assert packs["packs"] * 24 + packs["units"] == qty
    loose = f" + {packs['units']}" if packs["units"] else ""
    assert await card.locator(".suggested-packs").text_content() == (
        f"{packs['packs']} × casier ({packs['packs'] * 24}){loose}"
    )

    # the delivery drafted from it is in casiers too
    await tablet.page.click("#forecast-create-delivery")
    line = tablet.page.locator(f'#forecast-delivery .line-row[data-product-id="{beer}"]')
    assert await line.locator(f"[name=packs-{beer}]").input_value() == str(casiers)
    assert await line.locator(f"[name=pack-{beer}]").input_value() == "casier"
    await line.locator("[name=qty]").fill("3")
    await tablet.page.click("#forecast-delivery-submit")
    await tablet.page.wait_for_selector('#forecast-delivery-feedback[data-outcome="ok"]')
    assert (await api.stock(bar))[beer] == 4 + casiers * 24 + 3
