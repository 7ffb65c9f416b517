"""The sell screen on bar Wi-Fi (issue 14 §2): slow and stalled networks through request
interception and the DevTools protocol, taps during "Sending…", the receipt, the keypad, search,
the basket's overflow and the 72 h offline grace (issue 12 item 24)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from playwright.async_api import BrowserContext, Route, WebSocketRoute

from tests.browser.devices import App, Devices, live
from tests.support import Api


async def stall(context: BrowserContext, pattern: str) -> Callable[[], Awaitable[None]]:
    """Requests matching `pattern` hang (Wi-Fi connected, no traffic) until release()."""
    held: list[Route] = []
    released = asyncio.Event()

    async def hold(route: Route) -> None:
        if released.is_set():
            await route.continue_()
            return
        held.append(route)

    await context.route(pattern, hold)

    async def release() -> None:
        released.set()
        await context.unroute(pattern, hold)
        for route in held:
            try:
                await route.continue_()
            except Exception:  # noqa: BLE001 (the page gave up on it already: aborted by its timeout)
                pass

    return release


async def basket_ids(app: App) -> list[str]:
    return await app.page.locator("#basket .line").evaluate_all(
        "ls => ls.map(l => l.dataset.productId + ':' + l.querySelector('.qty-value').textContent)"
    )


async def test_a_tap_while_sending_is_kept_for_the_next_basket_which_survives_a_reload(
    api: Api, devices: Devices
) -> None:
    bar = await api.bar()
    bock = await api.product(bar, "Bock", stock=10)
    fanta = await api.product(bar, "Fanta", stock=10, category="Sodas")
    staff = await api.member(bar, "staff")
    phone = await devices.open(staff)
    page = phone.page
    release = await stall(phone.context, "**/api/bars/*/sales")

    await phone.sell(bock)
    await page.wait_for_selector('#sell-feedback[data-outcome="sending"]')
    await phone.tile(fanta).click()  # tapped while the Bock sale is on its way
    assert await basket_ids(phone) == [f"{fanta}:1"]
    await release()
    await page.wait_for_selector('#sell-feedback[data-outcome="sold"]')
    assert await basket_ids(phone) == [f"{fanta}:1"]  # the Fanta was not lost
    assert (await api.stock(bar)) == {bock: 9, fanta: 10}

    await page.reload()
    await page.wait_for_selector(f'#basket .line[data-product-id="{fanta}"]')
    assert await basket_ids(phone) == [f"{fanta}:1"]


async def test_no_answer_sends_the_sale_to_the_outbox_and_the_app_opens_from_cache(
    api: Api, devices: Devices
) -> None:
    bar = await api.bar()
    bock = await api.product(bar, "Bock", stock=10)
    staff = await api.member(bar, "staff")
    phone = await devices.open(staff)
    await phone.wait_worker_active()
    await live(phone)
    page = phone.page
    release = await stall(phone.context, "**/api/bars/*/sales")

    await phone.sell(bock, 2)
    # a few seconds without an answer: kept (same id), and the seller carries on
    await page.wait_for_selector('#sell-feedback[data-outcome="pending"]', timeout=15_000)
    assert "No answer" in (await page.text_content("#sell-feedback") or "")
    entry = page.locator('.outbox-entry[data-status="pending"]')
    sale_id = await entry.get_attribute("data-sale-id")
    await phone.tile(bock).click()
    assert await basket_ids(phone) == [f"{bock}:1"]
    await page.wait_for_selector("#sell-button:not([disabled])")

    # the whole API stalls: reopening the app shows the shell and the last known stock at once
    release_api = await stall(phone.context, "**/api/**")
    await page.reload()
    await phone.wait_stock(bock, 10, within_ms=20_000)
    await release_api()
    await release()
    await page.wait_for_selector("#pending-badge", state="hidden", timeout=40_000)
    listed = (await api.http.get(f"/api/bars/{bar.id}/sales", headers=bar.owner.headers)).json()
    assert [s["id"] for s in listed["sales"]] == [sale_id]  # exactly once
    assert (await api.stock(bar))[bock] == 8


async def test_receipt_keypad_search_and_a_basket_longer_than_its_box(
    api: Api, devices: Devices
) -> None:
    bar = await api.bar(currency="XOF")
    biere = await api.product(bar, "Bière Flag", stock=50, price=800)
    others = [
        await api.product(bar, name, stock=50, price=500, category="Sodas")
        for name in ("Coca", "Fanta", "Sprite", "Tonic", "Eau", "Malta")
    ]
    staff = await api.member(bar, "staff")
    phone = await devices.open(staff)
    page = phone.page

    await page.fill("#product-search", "BIERE")  # accents and case ignored
    assert await page.locator(".tile").count() == 1
    await phone.tile(biere).click()
    await page.click(f'#basket .line[data-product-id="{biere}"] .qty-value')
    for key in ("2", "4", "ok"):
        await page.click(f'#keypad button[data-key="{key}"]')
    assert await basket_ids(phone) == [f"{biere}:24"]  # a crate, not 24 taps
    await page.click("#sell-button")
    await page.wait_for_selector('#sell-feedback[data-outcome="sold"]')
    assert (await api.stock(bar))[biere] == 26

    await page.click("#show-receipt")
    receipt = page.locator("#receipt")
    await receipt.wait_for()
    text = await receipt.text_content() or ""
    assert "Receipt #1" in text and "Bière Flag" in text and "19,200" in text
    assert "Served by Staff" in text
    assert await page.locator("#receipt-print").count() == 1
    await page.click("#receipt-close")

    await page.fill("#product-search", "")
    for product in others:
        await phone.tile(product).click()
    # the next basket: the last sale's message does not linger
    assert await page.text_content("#sell-feedback") == ""
    await phone.tile(biere).click()
    assert await page.text_content("#basket-title") == "Basket (7)"
    more = page.locator("#basket-more")
    await more.wait_for()
    assert "more" in (await more.text_content() or "")


async def test_offline_selling_stops_after_the_grace_and_the_outbox_is_still_sent(
    api: Api, devices: Devices
) -> None:
    bar = await api.bar()
    bock = await api.product(bar, "Bock", stock=10)
    staff = await api.member(bar, "staff")
    phone = await devices.open(staff)
    await phone.wait_worker_active()
    page = phone.page
    assert await page.get_attribute("html", "data-offline-grace-s") == str(72 * 3600)

    await phone.context.set_offline(True)
    await page.wait_for_selector('#conn-badge[data-state="offline"]')
    await phone.sell(bock)
    await page.wait_for_selector('#sell-feedback[data-outcome="pending"]')
    # three days and a minute without any answer from the server
    await page.evaluate(
        "localStorage.setItem('bt-last-contact', String(Date.now() - (72 * 3600 + 60) * 1000))"
    )
    await page.reload()
    await page.wait_for_selector(".tile")
    await phone.sell(bock)
    await page.wait_for_selector('#sell-feedback[data-outcome="stopped"]')
    assert "72 h" in (await page.text_content("#sell-feedback") or "")
    assert await page.get_attribute("#pending-badge", "data-pending") == "1"  # not queued
    assert await basket_ids(phone) == [f"{bock}:1"]  # kept for when the network returns

    await phone.context.set_offline(False)
    await page.wait_for_selector("#pending-badge", state="hidden", timeout=40_000)
    assert (await api.stock(bar))[bock] == 9  # the old sale was still sent
    await page.click("#sell-button")  # in contact again: selling goes on
    await page.wait_for_selector('#sell-feedback[data-outcome="sold"]')
    assert (await api.stock(bar))[bock] == 8


async def test_not_enough_left_reduces_the_line_to_what_is_left(api: Api, devices: Devices) -> None:
    bar = await api.bar()
    wine = await api.product(bar, "Vin rouge (verre)", stock=3, price=1500, low_threshold=1)
    staff = await api.member(bar, "staff")
    phone = await devices.open(staff)
    page = phone.page
    for _ in range(3):
        await phone.tile(wine).click()
    assert (await api.sell(bar, {wine: 2})).status_code == 201  # another phone was quicker
    await page.click("#sell-button")
    await page.wait_for_selector('#sell-feedback[data-outcome="insufficient"]')
    assert await basket_ids(phone) == [f"{wine}:1"]
    line = page.locator(f'#basket .line[data-product-id="{wine}"] .line-problem')
    assert await line.text_content() == "only 1 left"
    await page.click("#sell-button")  # what is left sells
    await page.wait_for_selector('#sell-feedback[data-outcome="sold"]')
    assert (await api.stock(bar))[wine] == 0


async def test_a_sale_with_no_answer_on_a_silent_socket_says_offline(
    api: Api, devices: Devices
) -> None:
    bar = await api.bar()
    bock = await api.product(bar, "Bock", stock=10)
    staff = await api.member(bar, "staff")
    silent = asyncio.Event()  # from now on the Wi-Fi passes nothing, the socket stays "open"

    async def relay(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def to_server(message: str | bytes) -> None:
            if not silent.is_set():
                server.send(message)

        def to_page(message: str | bytes) -> None:
            if not silent.is_set():
                ws.send(message)

        ws.on_message(to_server)
        server.on_message(to_page)

    async def prepare(context: BrowserContext) -> None:
        await context.route_web_socket("**/ws", relay)

    phone = await devices.open(staff, prepare=prepare)
    await live(phone)
    await stall(phone.context, "**/api/**")
    silent.set()
    await phone.sell(bock)
    await phone.page.wait_for_selector('#sell-feedback[data-outcome="pending"]', timeout=15_000)
    # before: "Online" until the next heartbeat, 25 s + 10 s later (the wait allows for a busy CI)
    await phone.page.wait_for_selector('#conn-badge[data-state="offline"]', timeout=12_000)
