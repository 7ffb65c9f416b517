"""Every screen at 360 px: nothing wider than the phone, every control named (labels), the
bar picker for someone in two bars, and the language switch (messages and money)."""

from __future__ import annotations

from tests.browser.devices import PHONE, Devices
from tests.support import Api

UNNAMED_CONTROLS = """() => [
  ...document.querySelectorAll("main input, main select, main button, nav a")]
  .filter((el) => el.offsetParent !== null)
  .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")
                  && !el.textContent.trim())
  .map((el) => el.outerHTML.slice(0, 120))"""


async def test_every_screen_fits_a_phone_and_names_its_controls(api: Api, devices: Devices) -> None:
    first = await api.bar()
    await api.product(first, "Flag", stock=12, price=800)
    second = await api.bar(owner=first.owner, currency="EUR", timezone="Europe/Paris")
    await api.product(second, "Leffe", stock=5, price=450)
    owner = await api.login(first.owner.email)

    phone = await devices.open(owner, viewport=PHONE, ready=".bar-list")
    page = phone.page
    assert await page.locator(".bar-list button").count() == 2  # two bars: pick one
    await page.locator(".bar-list button").nth(1).click()
    await page.wait_for_selector(".tile")
    bar_name = await page.text_content("#bar-name")

    tabs = await page.locator("nav#tabs a.tab").evaluate_all("links => links.map(a => a.hash)")
    assert {"#/sell", "#/stock", "#/delivery", "#/count", "#/sales"} <= set(tabs)
    for tab in tabs:
        link = page.locator(f'nav#tabs a[href="{tab}"]')
        if not await link.is_visible():  # grouped under "More" on a phone
            await page.click("#more-tab")
        await link.click()
        await page.wait_for_selector(f'#main[data-screen="{tab[2:]}"]')
        await page.wait_for_timeout(300)  # the screen's first fetch
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{tab} is {width}px wide"
        assert await page.evaluate(UNNAMED_CONTROLS) == [], tab

    # French <-> English: messages and number formats follow
    await page.click('nav#tabs a[href="#/sell"]')
    lang = await page.get_attribute("html", "lang")
    price = await page.locator(".tile .price").first.text_content()
    await page.click("#lang-switch")
    # a selector, not wait_for_function: its polling evals a string, which our CSP forbids
    await page.locator(f"html:not([lang='{lang}'])").wait_for(state="attached")
    assert await page.locator(".tile .price").first.text_content() != price
    assert await page.text_content("#bar-name") == bar_name
