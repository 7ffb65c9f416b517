"""How long a sale takes to show on another phone, measured in real Chromium.

Against a running demo (`bartender serve --demo --port 8765`):

    python tests/load/pwa_live_latency.py --base-url http://127.0.0.1:8765 --sales 30

Two staff phones (360 px) open the app; the first sells one bottle by tapping (tile, "Sell"),
the second waits for the tile to show the new stock. Prints one JSON line: the tap-to-other-
phone time (median, p95, max, ms), which includes the HTTP sale, the commit, NOTIFY, the
websocket push and the repaint. It sells real bottles in the demo bar.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import time

from playwright.async_api import Browser, Page, async_playwright

STAFF = ("staff@chezfatou.demo", "moussa-staff-2026")
PRODUCT = "Flag 65 cl"


async def phone(browser: Browser, base_url: str) -> Page:
    context = await browser.new_context(viewport={"width": 360, "height": 740}, locale="en-GB")
    page = await context.new_page()
    await page.goto(base_url)
    await page.fill("input[name=email]", STAFF[0])
    await page.fill("input[name=password]", STAFF[1])
    await page.click("form.login button[type=submit]")
    await page.wait_for_selector('#conn-badge[data-state="live"]', timeout=10000)
    return page


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", default="http://127.0.0.1:8765")
    parser.add_argument("--sales", type=int, default=30)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=args.chromium, headless=True)
        seller, watcher = await phone(browser, args.base_url), await phone(browser, args.base_url)
        tile = seller.locator(".tile", has_text=PRODUCT).first
        product_id = await tile.get_attribute("data-product-id")
        watched = f'.tile[data-product-id="{product_id}"]'
        times = []
        for _ in range(args.sales):
            stock = int(await watcher.get_attribute(watched, "data-stock") or "0")
            await tile.click()
            started = time.perf_counter()
            await seller.click("#sell-button")
            await watcher.wait_for_selector(f'{watched}[data-stock="{stock - 1}"]', timeout=10000)
            times.append((time.perf_counter() - started) * 1000)
            await seller.wait_for_selector('#sell-feedback[data-outcome="sold"]')
            await seller.evaluate("document.getElementById('sell-feedback').dataset.outcome = ''")
        await browser.close()
    times.sort()
    print(
        json.dumps(
            {
                "what": "tap Sell on one phone -> stock shown on another (ms)",
                "sales": len(times),
                "median_ms": round(statistics.median(times), 1),
                "p95_ms": round(times[int(len(times) * 0.95) - 1], 1),
                "max_ms": round(times[-1], 1),
                "machine": f"{platform.machine()} {platform.system()} {platform.release()}",
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
