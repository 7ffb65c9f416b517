"""Screenshots of the main screens for the README, taken from a running demo server.

    bartender serve --demo --port 8765          # in another terminal
    python pwa/tools/screenshots.py --base-url http://127.0.0.1:8765

Phone shots are 360x740 portrait (French), tablet shots 1280x800 landscape (English), in
docs/screenshots/. It sells a few drinks in the demo bar on the way (through the app), and signs
up a new owner with a bar of their own (use a scratch BARTENDER_DATA_DIR). Tab icons are emoji:
install Debian's fonts-noto-color-emoji first, or they show as empty boxes.
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
STAFF = ("staff@chezfatou.demo", "moussa-staff-2026")
MANAGER = ("manager@chezfatou.demo", "awa-manager-2026")
OWNER = ("owner@chezfatou.demo", "fatou-owner-2026")
PHONE = {"width": 360, "height": 740}
TABLET = {"width": 1280, "height": 800}


async def open_app(
    browser: Browser,
    base_url: str,
    login: tuple[str, str],
    viewport: dict[str, int],
    locale: str,
    shot: str | None = None,
) -> Page:
    context = await browser.new_context(viewport=viewport, locale=locale, device_scale_factor=2)
    page = await context.new_page()
    await page.goto(base_url)
    await page.wait_for_selector("form.login:not(.prelogin)")  # the app took the form over
    await page.fill("input[name=email]", login[0])
    await page.fill("input[name=password]", login[1])
    if shot:
        await page.screenshot(path=OUT / shot)
    await page.click("form.login button[type=submit]")
    await page.wait_for_selector("#main[data-screen]:not([data-screen=login])")
    await page.wait_for_selector('#conn-badge[data-state="live"]', timeout=10000)
    return page


async def tile_named(page: Page, name: str) -> None:
    await page.locator(".tile", has_text=name).first.click()


async def phone_shots(browser: Browser, base_url: str) -> None:
    page = await open_app(browser, base_url, STAFF, PHONE, "fr-FR", shot="phone-login.png")
    await page.screenshot(path=OUT / "phone-sell.png")
    for name in ("Flag 65 cl", "Flag 65 cl", "Coca-Cola 33 cl"):
        await tile_named(page, name)
    await page.screenshot(path=OUT / "phone-basket.png")
    await page.click("#sell-button")
    await page.wait_for_selector('#sell-feedback[data-outcome="sold"]')
    await page.screenshot(path=OUT / "phone-sold.png")
    await page.click("#show-receipt")
    await page.wait_for_selector("#receipt")
    await page.screenshot(path=OUT / "phone-receipt.png")
    await page.click("#receipt-close")
    await tile_named(page, "Flag 65 cl")
    await page.click("#basket .qty-value")
    for key in ("2", "4"):
        await page.click(f'#keypad button[data-key="{key}"]')
    await page.screenshot(path=OUT / "phone-keypad.png")
    await page.click("#keypad button.ghost")  # cancel: the crate is not sold
    await page.click("#basket button.ghost")  # clear the basket
    await page.context.set_offline(True)
    await page.wait_for_selector('#conn-badge[data-state="offline"]')
    await tile_named(page, "Castel 65 cl")
    await page.click("#sell-button")
    await page.wait_for_selector('#sell-feedback[data-outcome="pending"]')
    await page.screenshot(path=OUT / "phone-offline-pending.png")
    await page.context.set_offline(False)
    await page.wait_for_selector("#pending-badge", state="hidden", timeout=15000)
    await page.context.close()


async def signup_shots(browser: Browser, base_url: str) -> None:
    """A new owner starts in the app: sign-up, then their first bar."""
    context = await browser.new_context(viewport=PHONE, locale="fr-FR", device_scale_factor=2)
    page = await context.new_page()
    await page.goto(base_url)
    await page.click("#show-signup")
    await page.fill("#signup-form input[name=name]", "Aïcha Ndiaye")
    await page.fill("#signup-form input[name=email]", f"aicha-{uuid.uuid4().hex[:6]}@example.com")
    await page.fill("#signup-form input[name=password]", "le-maquis-2026")
    await page.screenshot(path=OUT / "phone-signup.png")
    await page.click("#signup-form button[type=submit]")
    await page.wait_for_selector("#create-bar-form")
    await page.fill("#create-bar-form input[name=name]", "Le Maquis d'Aïcha")
    await page.screenshot(path=OUT / "phone-create-bar.png")
    await context.close()


async def manager_phone_shots(browser: Browser, base_url: str) -> None:
    """Managers use phones too: a manager screen and the owner's bar settings at 360 px."""
    page = await open_app(browser, base_url, MANAGER, PHONE, "fr-FR")
    await page.click('a.tab[href="#/stock"]')
    await page.wait_for_selector("#stock-table")
    await page.screenshot(path=OUT / "phone-manager-stock.png")
    await page.context.close()
    page = await open_app(browser, base_url, OWNER, PHONE, "fr-FR")
    await page.evaluate("location.hash = '#/settings'")
    await page.wait_for_selector("#bar-settings-form")
    await page.screenshot(path=OUT / "phone-bar-settings.png", full_page=True)
    await page.context.close()


async def tablet_shots(browser: Browser, base_url: str) -> None:
    page = await open_app(browser, base_url, MANAGER, TABLET, "en-GB")
    await page.wait_for_selector("#stock-table")
    await page.screenshot(path=OUT / "tablet-stock.png")
    screens = (
        ("today", "#today-count"),
        ("sales", ".sale"),
        ("delivery", "#delivery-form"),
        ("ledger", "#ledger-table tbody tr"),
    )
    for screen, ready in screens:
        await page.click(f'a.tab[href="#/{screen}"]')
        await page.wait_for_selector(ready)
        if screen == "delivery":
            await page.select_option("#delivery-lines .line-row:nth-child(1) select", index=3)
            await page.fill("#delivery-lines .line-row:nth-child(1) input", "48")
            await page.fill("input[name=supplier]", "Solibra")
            await page.fill("input[name=reference]", "BL-2026-117")
        await page.screenshot(path=OUT / f"tablet-{screen}.png")
    await page.click('a.tab[href="#/count"]')
    rows = page.locator("#count-table tbody tr")
    for index, delta in ((0, -1), (2, 0), (4, -2)):
        row = rows.nth(index)
        expected = int((await row.locator(".expected").text_content() or "0").replace(",", ""))
        await row.locator("input.count-input").fill(str(expected + delta))
    await page.click("#count-review")
    await page.screenshot(path=OUT / "tablet-count.png", full_page=True)
    await page.context.close()


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-url", default="http://127.0.0.1:8765")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=args.chromium, headless=True)
        await phone_shots(browser, args.base_url)
        await signup_shots(browser, args.base_url)
        await manager_phone_shots(browser, args.base_url)
        await tablet_shots(browser, args.base_url)
        await browser.close()
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    asyncio.run(main())
