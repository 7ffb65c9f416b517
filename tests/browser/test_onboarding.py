"""A new owner starts a bar in the app alone: from a fresh database, sign up, create the bar,
enter ten products at once, record the first delivery, add a staff member, who logs in on a
phone and sells. Nothing is set up through the API: every step is a click in the app."""

from __future__ import annotations

import uuid

from playwright.async_api import Page

from tests.browser.devices import PHONE, TABLET, App, Devices, live
from tests.support import PASSWORD, Api, User

# name, category, price, cost: rows as a spreadsheet copies them (tab-separated)
CATALOGUE = [
    ("Bock", "Bières", "1000", "600"),
    ("Flag", "Bières", "1000", "650"),
    ("Castel", "", "1200", ""),
    ("33 Export", "", "1100", ""),
    ("Fanta", "Softs", "500", "250"),
    ("Coca-Cola", "", "500", "250"),
    ("Eau minérale", "", "300", ""),
    ("Whisky (verre)", "Spiritueux", "2500", "900"),
    ("Pastis", "", "1500", ""),
    ("Brochettes de bœuf", "Cuisine", "2000", ""),
]


async def new_device(devices: Devices, viewport: dict[str, int], locale: str = "en-GB") -> App:
    """A fresh browser context on the app's start page, not logged in."""
    context = await devices.browser.new_context(
        viewport=viewport, locale=locale, service_workers="allow"
    )
    page = await context.new_page()
    app = App(context, page)
    page.on("pageerror", lambda exc: app.errors.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda msg: (
            app.errors.append(f"console: {msg.text}")
            if "Content Security Policy" in msg.text
            else None
        ),
    )
    devices.apps.append(app)
    await page.goto(f"{devices.server.base_url}/")
    await page.wait_for_selector("form.login")
    return app


async def sign_up(page: Page, name: str, email: str, password: str = PASSWORD) -> None:
    await page.click("#show-signup")
    await page.fill("#signup-form input[name=name]", name)
    await page.fill("#signup-form input[name=email]", email)
    await page.fill("#signup-form input[name=password]", password)
    await page.click("#signup-form button[type=submit]")


async def paste(page: Page, selector: str, text: str) -> None:
    """Paste `text` into the element as a user's Ctrl+V from a spreadsheet would."""
    await page.locator(selector).focus()
    await page.locator(selector).evaluate(
        """(el, text) => {
          const data = new DataTransfer();
          data.setData("text/plain", text);
          const init = { clipboardData: data, bubbles: true, cancelable: true };
          const event = new ClipboardEvent("paste", init);
          el.dispatchEvent(event);
        }""",
        text,
    )


async def test_a_new_owner_opens_a_bar_and_staff_sell_from_a_phone(devices: Devices) -> None:
    owner = await new_device(devices, TABLET)
    page = owner.page
    email = f"fatou-{uuid.uuid4().hex[:6]}@example.com"
    await sign_up(page, "Fatou Diop", email)

    # a new account lands on "create your bar"; no red "Offline" badge while online
    await page.wait_for_selector("#create-bar-form")
    assert await page.locator("#conn-badge").is_hidden()
    await page.fill("#create-bar-form input[name=name]", "Chez Fatou, maquis du Plateau")
    await page.select_option("#create-bar-form select[name=currency]", "XOF")
    await page.select_option("#create-bar-form select[name=timezone]", "Africa/Abidjan")
    await page.fill("#create-bar-form input[name=day_starts_at]", "07:00")
    await page.click("#create-bar-form button[type=submit]")

    # the new bar opens on its first-run steps, at once, without logging out
    await page.wait_for_selector("#start-steps")
    assert "Chez Fatou, maquis du Plateau" in (await page.text_content("#bar-name") or "")
    await live(owner)
    assert await page.get_attribute('#start-steps [data-step="products"]', "data-done") == "false"
    await page.click('#start-steps [data-step="products"] a')

    # ten products in one go, pasted from a spreadsheet; an empty price is refused, not 0
    await page.wait_for_selector("#bulk-form")
    rows = "\n".join("\t".join(row) for row in CATALOGUE)
    await paste(page, "#bulk-rows .bulk-row:nth-child(1) input[name=name]", rows)
    ninth_price = "#bulk-rows .bulk-row:nth-child(9) input[name=price]"
    assert await page.input_value(ninth_price) == "1500"
    await page.fill(ninth_price, "")
    await page.click("#bulk-submit")
    await page.wait_for_selector('#bulk-feedback[data-outcome="error"]')
    error = page.locator("#bulk-rows .bulk-row:nth-child(9) .field-error")
    assert "Price required" in (await error.text_content() or "")
    assert await page.get_attribute(ninth_price, "aria-invalid") == "true"
    assert await page.locator("#products-table tbody tr").count() == 0  # nothing half-saved
    await page.fill(ninth_price, "1500")
    await page.click("#bulk-submit")
    await page.wait_for_selector('#bulk-feedback[data-outcome="ok"]')
    assert await page.text_content("#bulk-feedback") == "10 products added."
    await page.wait_for_selector("#products-table tbody tr >> nth=9")
    castel = page.locator("#products-table tbody tr", has_text="Castel")
    assert "Bières" in (await castel.text_content() or "")  # category carried down
    assert "1,200" in (await castel.text_content() or "")

    # the next step is offered: the first delivery
    await page.click('#products-next a[href="#/delivery"]')
    await page.wait_for_selector("#delivery-form")
    await page.select_option("#delivery-lines .line-row:nth-child(1) select", label="Bock (0)")
    await page.fill("#delivery-lines .line-row:nth-child(1) input", "24")
    await page.click("#add-line")
    await page.select_option("#delivery-lines .line-row:nth-child(2) select", label="Fanta (0)")
    await page.fill("#delivery-lines .line-row:nth-child(2) input", "12")
    await page.click("#delivery-form button[type=submit]")
    await page.wait_for_selector('#delivery-feedback[data-outcome="ok"]')
    assert await page.text_content("#delivery-feedback") == "Delivery recorded (2 products)."

    # the next step is offered again: the team
    await page.click("#delivery-next")
    staff_email = f"awa-{uuid.uuid4().hex[:6]}@example.com"
    await page.fill("#invite-form input[name=email]", staff_email)
    await page.fill("#invite-form input[name=name]", "Awa")
    await page.fill("#invite-form input[name=password]", PASSWORD)
    await page.click("#invite-form button[type=submit]")
    await page.wait_for_selector("#staff-table tbody tr >> text=Awa")
    assert await page.locator('#staff-next a[href="#/sell"]').count() == 1  # then: first sale

    # the staff member logs in on a phone and sells
    phone = await devices.open(User("", staff_email, "", ""), viewport=PHONE)
    await live(phone)
    bock = await phone.page.get_attribute('.tile:has-text("Bock")', "data-product-id")
    assert bock
    await phone.wait_stock(bock, 24)
    await phone.sell(bock, 2)
    await phone.page.wait_for_selector('#sell-feedback[data-outcome="sold"]')
    await phone.wait_stock(bock, 22)

    # the owner's first-run steps are all ticked
    await page.click('a.tab[href="#/start"]')
    for step in ("products", "delivery", "staff", "sale"):
        await page.wait_for_selector(f'#start-steps [data-step="{step}"][data-done="true"]')


async def test_an_empty_bar_says_what_is_missing(api: Api, devices: Devices) -> None:
    bar = await api.bar()
    staff = await api.member(bar, "staff")
    phone = await devices.open(staff, viewport=PHONE, ready="#sell-empty")
    text = await phone.page.text_content("#sell-empty") or ""
    assert "manager adds the products" in text  # not "No product matches."
    assert await phone.page.locator("#sell-empty a").count() == 0  # staff cannot add them
    owner = await devices.open(
        await api.login(bar.owner.email), viewport=PHONE, ready="#start-steps"
    )
    await owner.page.click('a.tab[href="#/sell"]')
    await owner.page.click("#sell-empty a")
    await owner.page.wait_for_selector("#bulk-form")


async def test_bulk_entry_keeps_each_refused_row_with_its_reason(
    api: Api, devices: Devices
) -> None:
    bar = await api.bar(currency="EUR", timezone="Europe/Paris")
    tablet = await devices.open(
        await api.login(bar.owner.email), viewport=TABLET, ready="#start-steps"
    )
    page = tablet.page
    await page.click('#start-steps [data-step="products"] a')
    await page.wait_for_selector("#bulk-form")
    rows = "\n".join(
        [
            "Leffe\tBières\t4,50\t2",
            f"Perrier\t{'x' * 150}\t3",  # a category the server refuses (100 characters at most)
            "Orangina\tSofts\t3.20",
        ]
    )
    await paste(page, "#bulk-rows .bulk-row:nth-child(1) input[name=name]", rows)
    await page.click("#bulk-submit")
    await page.wait_for_selector('#bulk-feedback[data-outcome="error"]')
    assert (
        await page.text_content("#bulk-feedback")
        == "2 products added. 1 row refused, to fix above."
    )
    refused = page.locator("#bulk-rows .bulk-row").first
    assert await refused.locator("input[name=name]").input_value() == "Perrier"
    error = refused.locator('.field-error[data-for="category"]')
    assert await error.text_content() == "At most 100 characters."
    prices = {
        p["name"]: p["price"]
        for p in (
            await api.http.get(f"/api/bars/{bar.id}/products", headers=bar.owner.headers)
        ).json()["products"]
    }
    assert prices == {"Leffe": 450, "Orangina": 320}  # EUR in cents, "4,50" or "3.20"
