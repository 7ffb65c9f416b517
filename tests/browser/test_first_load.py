"""First load on a phone network (issue 14 §5): compressed assets, every module the login needs
announced by the shell (no round trip per import level), manager screens only for managers.

Timings are measured by tests/load/first_load.py (docs/benchmarks.md), not asserted here: what
is asserted is what makes them (bytes, which requests, how they are discovered).
"""

from __future__ import annotations

import asyncio
import gzip
import re

import brotli
import httpx
from playwright.async_api import Browser, Route

from bartender.pwa import assets
from tests.browser.devices import PHONE, Devices
from tests.support import PASSWORD, Api, RunningServer

MANAGER_ONLY = ("today", "stock", "delivery", "forecast", "count", "sales", "ledger", "products")


async def test_text_assets_are_served_compressed_and_stay_immutable(
    http: httpx.AsyncClient,
) -> None:
    version = assets.current().version
    url = f"/static/{version}/css/app.css"
    plain = await http.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    for coding, decode in (("br", brotli.decompress), ("gzip", gzip.decompress)):
        # httpx would decode for us: read the raw bytes to see what went on the wire
        async with http.stream("GET", url, headers={"Accept-Encoding": coding}) as r:
            raw = b"".join([chunk async for chunk in r.aiter_raw()])
        assert r.headers["content-encoding"] == coding
        assert r.headers["vary"] == "Accept-Encoding"
        assert "immutable" in r.headers["cache-control"]
        assert decode(raw) == plain.content
        assert len(raw) < len(plain.content) / 3
    # refused with q=0: not sent that way
    r = await http.get(url, headers={"Accept-Encoding": "br;q=0, gzip"})
    assert r.headers["content-encoding"] == "gzip"
    # PNGs are already compressed
    r = await http.get(f"/static/{version}/icons/icon-192.png", headers={"Accept-Encoding": "br"})
    assert "content-encoding" not in r.headers


async def test_the_shell_announces_every_module_of_the_first_screen(
    http: httpx.AsyncClient,
) -> None:
    pwa = assets.current()
    html = (await http.get("/", headers={"Accept-Language": "fr-FR,fr;q=0.9"})).text
    preloaded = set(re.findall(rf'rel="modulepreload" href="/static/{pwa.version}/([^"]+)"', html))
    assert {"js/main.js", "js/screens/sell.js", "js/live.js", "js/outbox.js"} <= preloaded
    assert preloaded == set(pwa.module_graph()) | set(pwa.module_graph("js/prelogin.js"))
    # what makes the first visit's form usable is asked for first
    order = re.findall(rf'rel="modulepreload" href="/static/{pwa.version}/([^"]+)"', html)
    assert order[:4] == ["js/prelogin.js", "js/auth.js", "js/db.js", "js/locks.js"]
    assert not any(f"js/screens/{name}.js" in preloaded for name in MANAGER_ONLY)
    assert f'href="/static/{pwa.version}/i18n/fr.json" as="fetch"' in html
    assert '<html lang="fr"' in html


async def test_staff_download_only_what_selling_needs(api: Api, devices: Devices) -> None:
    bar = await api.bar()
    await api.product(bar, "Flag", stock=5)
    staff = await api.member(bar, "staff")
    manager = await api.member(bar, "manager")

    phone = await devices.open(staff)
    scripts = set(
        await phone.page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    )
    assert any(s.endswith("/js/screens/sell.js") for s in scripts)
    assert not any(s.endswith(f"/js/screens/{name}.js") for s in scripts for name in MANAGER_ONLY)

    tablet = await devices.open(manager, viewport={"width": 1280, "height": 800}, ready="#tabs a")
    await tablet.page.wait_for_selector('#tabs a[href="#/stock"]')
    await tablet.page.click('#tabs a[href="#/stock"]')
    await tablet.page.wait_for_selector('#main[data-screen="stock"]')


async def test_a_first_visit_sees_the_login_form_before_any_script_and_keeps_what_it_typed(
    server: RunningServer, browser: Browser, http: httpx.AsyncClient
) -> None:
    """The app's modules are held back: the server's form shows, then the app takes it over."""
    # the service worker keeps the shell without it: an installed app may have a session
    assert "prelogin" not in (await http.get(assets.APP_SHELL)).text
    assert assets.APP_SHELL in assets.current().precache()

    context = await browser.new_context(viewport=PHONE, locale="fr-FR")
    try:
        page = await context.new_page()
        cdp = await context.new_cdp_session(page)
        await cdp.send("Network.enable")
        await cdp.send(  # a phone network, so the scripts arrive late as they do there
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": 300,
                "downloadThroughput": 50_000,
                "uploadThroughput": 50_000,
            },
        )
        held = asyncio.Event()
        release = asyncio.Event()

        async def hold_main(route: Route) -> None:
            held.set()
            await release.wait()
            await route.continue_()

        await context.route("**/js/main.js", hold_main)
        await page.goto(f"{server.base_url}/", wait_until="commit")
        form = page.locator("form.login.prelogin")
        await form.wait_for(state="visible")
        assert await page.text_content("form.prelogin button") == "Se connecter"
        assert await page.is_disabled("form.prelogin button")  # until prelogin.js is in
        await page.wait_for_selector("form.prelogin button:not([disabled])")  # prelogin.js
        await page.fill("form.prelogin input[name=email]", "moussa@example.com")
        await page.focus("form.prelogin input[name=password]")
        await held.wait()
        release.set()
        await page.wait_for_selector("form.login:not(.prelogin)")
        assert await page.input_value("input[name=email]") == "moussa@example.com"
        assert await page.evaluate("document.activeElement.name") == "password"
        # no module was discovered late: all were asked for before the first one arrived (one
        # round trip for all, not one per level of imports)
        late = await page.evaluate("""() => {
          const js = performance.getEntriesByType('resource').filter(e => e.name.endsWith('.js'));
          const firstIn = Math.min(...js.map(e => e.responseEnd));
          return js.filter(e => e.startTime > firstIn).map(e => e.name);
        }""")
        assert late == []
    finally:
        await context.close()


async def test_a_first_visit_logs_in_before_the_app_has_loaded(
    api: Api, server: RunningServer, browser: Browser
) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=4)
    staff = await api.member(bar, "staff")
    context = await browser.new_context(viewport=PHONE, locale="fr-FR")
    try:
        page = await context.new_page()
        release = asyncio.Event()

        async def hold_main(route: Route) -> None:
            await release.wait()
            await route.continue_()

        await context.route("**/js/main.js", hold_main)
        await page.goto(f"{server.base_url}/", wait_until="commit")
        await page.fill("form.prelogin input[name=email]", staff.email)
        await page.fill("form.prelogin input[name=password]", "wrong password")
        await page.click("form.prelogin button:not([disabled])")
        await page.wait_for_selector("#prelogin-error:has-text('incorrect')")  # in French
        await page.fill("form.prelogin input[name=password]", PASSWORD)
        await page.click("form.prelogin button:not([disabled])")
        await page.wait_for_selector("form.prelogin button[disabled]")  # logging in
        await page.wait_for_selector("form.prelogin button:not([disabled])", state="detached")
        release.set()
        # the app starts with the session prelogin.js stored: no second login
        await page.wait_for_selector(f'.tile[data-product-id="{flag}"]')
        assert await page.locator("form.login").count() == 0
    finally:
        await context.close()
