"""Manager screens on a 360 px phone (issue 14 §4): grouped tabs that fit, the whole bar name,
44 px tap targets, cards instead of cut-off tables, the ledger newest first with a day filter,
a count draft that survives a tab switch, a confirmation before removing someone, and a
forecast readable at arm's length."""

from __future__ import annotations

import re

from playwright.async_api import Page

from tests.browser.devices import PHONE, TABLET, App, Devices
from tests.forecast.support import give_past, restocked, weekly_demand
from tests.support import Api

LONG_BAR = "Chez Fatou, le grand maquis du Plateau"
LONG_PRODUCT = "Brochettes de bœuf braisées au feu de bois"

SMALL_TARGETS = """() => [
  ...document.querySelectorAll("main button, main a, main select, main input, nav button, nav a")]
  .filter((el) => el.offsetParent !== null)
  .map((el) => {
    const target = el.type === "checkbox" || el.type === "radio" ? el.closest("label") || el : el;
    const r = target.getBoundingClientRect();
    return { html: el.outerHTML.slice(0, 90), h: Math.round(r.height), w: Math.round(r.width) };
  })
  .filter((t) => t.h < 44 || t.w < 44)"""

OUTSIDE = """(selector) => [...document.querySelectorAll(selector)]
  .filter((el) => el.offsetParent !== null)
  .map((el) => el.getBoundingClientRect())
  .filter((r) => r.right > window.innerWidth + 0.5 || r.left < -0.5).length"""


async def go(app: App, screen: str) -> None:
    """Open a screen from the navigation, through "More" when it is grouped there."""
    page = app.page
    link = page.locator(f'nav#tabs a[href="#/{screen}"]')
    if not await link.is_visible():
        await page.click("#more-tab")
    await link.click()
    await page.wait_for_selector(f'#main[data-screen="{screen}"]')


async def assert_fits(page: Page, screen: str) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], screen
    assert await page.evaluate(SMALL_TARGETS) == [], screen


async def test_manager_screens_fit_a_phone(api: Api, devices: Devices) -> None:
    bar = await api.bar(name=LONG_BAR)
    flag = await api.product(bar, "Flag", stock=30, price=800)
    await api.product(bar, LONG_PRODUCT, stock=12, price=2500, category="Cuisine")
    staff = await api.member(bar, "staff")
    for _ in range(3):
        assert (await api.sell(bar, {flag: 1})).status_code == 201
    # the first movements happened three days ago
    async with api.server.rt.pool.acquire() as conn, conn.transaction():
        # the ledger is append-only (a trigger): back-dating it is a test's privilege
        await conn.execute("SET LOCAL session_replication_role = replica")
        await conn.execute(
            "UPDATE movements SET at = at - interval '3 days' WHERE bar_id = $1 AND seq <= 2",
            bar.id,
        )
        three_days_ago = await conn.fetchval(
            "SELECT to_char((now() - interval '3 days') AT TIME ZONE 'Africa/Abidjan', "
            "'YYYY-MM-DD')"
        )
    owner = await api.login(bar.owner.email)
    phone = await devices.open(owner, viewport=PHONE)
    page = phone.page

    # the whole bar name, on two lines rather than "Che…"
    assert await page.text_content("#bar-name") == LONG_BAR
    assert await page.evaluate(
        """() => { const el = document.getElementById("bar-name");
                   return el.scrollWidth <= el.clientWidth
                     && el.scrollHeight <= el.clientHeight + 1; }"""
    )
    # five tabs at most, all on screen, each with a text label; the rest under "More"
    tabs = page.locator("nav#tabs > .tab")
    assert await tabs.count() <= 5
    assert await page.evaluate(OUTSIDE, "nav#tabs > .tab") == 0
    for label in await page.locator("nav#tabs > .tab .tab-label").all_text_contents():
        assert label.strip()
    await page.click("#more-tab")
    assert await page.locator("#more-panel a.tab").count() >= 6
    await page.keyboard.press("Escape")  # closes, as a tap outside does
    assert await page.locator("#more-panel").is_hidden()
    await page.click("#more-tab")
    await page.click("#bar-name")
    assert await page.locator("#more-panel").is_hidden()

    # stock: every product's stock on screen, long names wrap
    await go(phone, "stock")
    await page.wait_for_selector(f'#stock-table tr[data-product-id="{flag}"]')
    assert await page.evaluate(OUTSIDE, "#stock-table .stock") == 0
    await assert_fits(page, "stock")

    # products: edit and deactivate reachable on every row
    await go(phone, "products")
    await page.wait_for_selector("#products-table tbody tr >> nth=1")
    assert await page.evaluate(OUTSIDE, "#products-table td.actions button") == 0
    await assert_fits(page, "products")

    # ledger: newest first; a day shows only that day
    await go(phone, "ledger")
    await page.select_option("#ledger-product", flag)
    await page.wait_for_selector("#ledger-table tbody tr >> nth=3")
    seqs = [
        int(s)
        for s in await page.locator("#ledger-table tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.seq)"
        )
    ]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) == 4  # delivery + 3 sales
    await page.fill("#ledger-day", three_days_ago)
    await page.wait_for_selector("#ledger-table tbody tr >> nth=1", state="detached")
    kinds = await page.locator("#ledger-table tbody tr td:nth-of-type(1)").all_text_contents()
    assert kinds == ["Delivery"], kinds
    await assert_fits(page, "ledger")

    # a count in progress survives a tab switch
    await go(phone, "count")
    await page.fill(f'#count-table tr[data-product-id="{flag}"] input', "25")
    await assert_fits(page, "count")
    await go(phone, "stock")
    await go(phone, "count")
    assert await page.input_value(f'#count-table tr[data-product-id="{flag}"] input') == "25"
    assert "1 line counted" in (await page.text_content("#count-summary") or "")

    # removing a member takes a confirmation that names them
    await go(phone, "staff")
    row = page.locator(f'#staff-table tr[data-user-id="{staff.id}"]')
    await row.locator("button.remove").click()
    assert await row.count() == 1
    members = (await api.http.get(f"/api/bars/{bar.id}/staff", headers=bar.owner.headers)).json()
    assert staff.id in {m["user_id"] for m in members["members"]}
    await assert_fits(page, "staff")
    await row.locator("button.confirm").click()
    await page.wait_for_selector(f'#staff-table tr[data-user-id="{staff.id}"]', state="detached")


async def test_forecast_reads_at_arms_length(api: Api, devices: Devices) -> None:
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
        await api.http.get(f"/api/bars/{bar.id}/forecast", headers=bar.owner.headers)
    ).json()
    models = {p["model"] for p in forecast["products"]}
    tablet = await devices.open(
        await api.login(bar.owner.email), viewport=TABLET, ready="#stock-table"
    )
    page = tablet.page
    await go(tablet, "forecast")
    await page.wait_for_selector(".forecast-card svg.forecast-chart")

    smallest = await page.evaluate(
        """() => Math.min(...[...document.querySelectorAll(".forecast-card *")]
             .filter((el) => [...el.childNodes]
               .some((n) => n.nodeType === 3 && n.textContent.trim()))
             .filter((el) => !el.closest("svg"))
             .map((el) => parseFloat(getComputedStyle(el).fontSize)))"""
    )
    assert smallest >= 12, smallest
    assert await page.locator(".forecast-card svg text").count() == 0  # SVG text shrinks with it
    text = await page.text_content("#forecast-list") or ""
    for model in models:
        assert model not in text
    assert not re.search(r"\d[.,]\d+ (days|jours)", text)
    if await page.locator(".forecast-card rect.sold.censored").count():
        assert "Sold out: demand unknown" in text  # explained on the card, not in a tooltip
    beer_card = page.locator(f'.forecast-card[data-product-id="{beer}"]')
    soda_card = page.locator(f'.forecast-card[data-product-id="{soda}"]')
    assert await soda_card.get_attribute("data-cover") == "enough"
    assert await beer_card.get_attribute("data-cover") in ("urgent", "order")
    colour = "el => getComputedStyle(el).backgroundColor"
    assert await soda_card.locator(".badge.cover").evaluate(colour) != await beer_card.locator(
        ".badge.cover"
    ).evaluate(colour)
