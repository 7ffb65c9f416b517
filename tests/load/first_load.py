"""First load of the PWA on a throttled phone network, measured in Debian's Chromium.

    bartender serve --demo --port 8765        # in another terminal (scratch BARTENDER_DATA_DIR)
    python tests/load/first_load.py --base-url http://127.0.0.1:8765 [--rounds 3]

Each round opens a fresh browser context (empty HTTP cache, no service worker) throttled through
the DevTools protocol (`Network.emulateNetworkConditions`, default the "slow 3G" profile of the
issue: 2 s round trip, 400 kbit/s both ways), then measures how long until the login form is
visible, usable (its button works) and taken over by the app, logs in as the demo's staff
member (once the app runs) and measures until the product grid is shown.
It prints one JSON line: the median of each figure, requests and bytes on the wire (compressed
size, headers included) up to the login form and up to the grid, and which JavaScript modules
staff downloaded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

from playwright.async_api import Browser, async_playwright

STAFF = ("staff@chezfatou.demo", "moussa-staff-2026")
PAINTED = """new Promise((resolve) => new PerformanceObserver((list, observer) => {
  const fcp = list.getEntries().find((e) => e.name === "first-contentful-paint");
  if (fcp) { observer.disconnect(); resolve(fcp.startTime); }
}).observe({ type: "paint", buffered: true }))"""


async def one_round(browser: Browser, base_url: str, rtt_ms: int, kbit: int) -> dict[str, Any]:
    context = await browser.new_context(
        viewport={"width": 360, "height": 740}, locale="fr-FR", service_workers="block"
    )
    page = await context.new_page()
    cdp = await context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": rtt_ms,
            "downloadThroughput": kbit * 1000 / 8,
            "uploadThroughput": kbit * 1000 / 8,
        },
    )
    urls: dict[str, str] = {}
    wire: dict[str, float] = {}
    cdp.on(
        "Network.requestWillBeSent", lambda e: urls.update({e["requestId"]: e["request"]["url"]})
    )
    cdp.on(
        "Network.loadingFinished", lambda e: wire.update({e["requestId"]: e["encodedDataLength"]})
    )

    started = time.perf_counter()
    await page.goto(base_url, wait_until="commit")
    await page.wait_for_selector("input[name=email]", state="visible", timeout=120_000)
    # shown means painted: the stylesheet is render-blocking, so the form is on screen at the
    # first contentful paint when the HTML carries it, or when it is inserted if later
    fcp_ms = await page.evaluate(PAINTED)
    login_s = max(time.perf_counter() - started, fcp_ms / 1000)
    # usable: its button works (the server-rendered form's once prelogin.js is in)
    await page.wait_for_selector("form.login button[type=submit]:not([disabled])", timeout=120_000)
    usable_s = time.perf_counter() - started
    await page.wait_for_selector("form.login:not(.prelogin)", timeout=120_000)
    app_s = time.perf_counter() - started
    login_requests, login_bytes = len(urls), sum(wire.values())

    await page.fill("input[name=email]", STAFF[0])
    await page.fill("input[name=password]", STAFF[1])
    clicked = time.perf_counter()
    await page.click("form.login button[type=submit]")
    await page.wait_for_selector(".tile", timeout=120_000)
    grid_s = time.perf_counter() - clicked
    static = [u.split("/static/", 1)[1] for u in urls.values() if "/static/" in u]
    modules = sorted({u.split("/", 1)[1] for u in static if u.endswith(".js")})
    await context.close()
    return {
        "login_form_s": login_s,
        "login_usable_s": usable_s,
        "app_running_s": app_s,
        "login_requests": login_requests,
        "login_kb": login_bytes / 1000,
        "sell_grid_after_login_s": grid_s,
        "total_requests": len(urls),
        "total_kb": sum(wire.values()) / 1000,
        "modules": modules,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8765")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rtt-ms", type=int, default=2000)
    parser.add_argument("--kbit", type=int, default=400)
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
        rounds = [
            await one_round(browser, args.base_url, args.rtt_ms, args.kbit)
            for _ in range(args.rounds)
        ]
        await browser.close()
    figures = {
        key: round(statistics.median(r[key] for r in rounds), 2)
        for key in rounds[0]
        if key != "modules"
    }
    print(
        json.dumps(
            {
                "label": args.label,
                "profile": {"rtt_ms": args.rtt_ms, "kbit_s": args.kbit},
                "rounds": args.rounds,
                **figures,
                "staff_modules": rounds[-1]["modules"],
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
