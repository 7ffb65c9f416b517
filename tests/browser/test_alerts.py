"""Low-stock alerts in the PWA, as far as a test machine can go without Google's push service.

Chromium gets a push endpoint only from its vendor's push service (FCM), which is out of reach
here: `pushManager.subscribe` fails (incognito contexts: "permission denied"; persistent ones
hang on the network). So the test checks that the switch reports that failure, then hands the
page's own registration code a subscription of the local push service (a real P-256 key pair
and auth secret), lets the server push a real crossing to it (VAPID checked, payload
decrypted), and delivers that payload to the service worker the way Chromium does on a push
(DevTools `ServiceWorker.deliverPushMessage`): the worker shows the notification.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from bartender.settings import Settings
from tests.alerts.conftest import VAPID_SUB, alert_settings
from tests.alerts.receivers import PushService
from tests.browser.devices import TABLET, App, Devices, live
from tests.support import PASSWORD, Api


@pytest.fixture
def settings(database_url: str) -> Settings:
    return alert_settings(database_url)  # http push endpoints allowed, fast retries


@pytest.fixture
async def push_service() -> AsyncIterator[PushService]:
    service = await PushService(VAPID_SUB).start()
    yield service
    await service.stop()


async def deliver_to_worker(app: App, origin: str, payload: dict[str, Any]) -> None:
    """What Chromium does when its push service hands it a message: a `push` event in the
    worker (DevTools protocol). Returns once the worker's handler has shown the notification
    (it then posts `bt-alert` to the open pages)."""
    await app.page.evaluate("""() => {
      window.__btAlertSeen = new Promise((resolve) => navigator.serviceWorker.addEventListener(
        "message", (e) => { if (e.data && e.data.type === "bt-alert") resolve(e.data.payload); }));
    }""")
    cdp = await app.context.new_cdp_session(app.page)
    registrations: list[dict[str, Any]] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda e: registrations.extend(r for r in e["registrations"] if not r["isDeleted"]),
    )
    await cdp.send("ServiceWorker.enable")
    for _ in range(100):
        if registrations:
            break
        await asyncio.sleep(0.05)
    message = {
        "origin": origin + "/",
        "registrationId": registrations[0]["registrationId"],
        "data": json.dumps(payload),
    }
    # a push can be dropped while the worker (re)starts, as with a real push service
    for _ in range(3):
        await cdp.send("ServiceWorker.deliverPushMessage", message)
        try:
            seen = await asyncio.wait_for(app.page.evaluate("() => window.__btAlertSeen"), 10)
        except TimeoutError:
            continue
        assert seen == payload
        return
    raise AssertionError("the service worker never handled the push")


async def notifications(app: App) -> list[dict[str, Any]]:
    return await app.page.evaluate("""async () => {
      const reg = await navigator.serviceWorker.ready;
      for (let i = 0; i < 300; i++) {  // the worker may have to start first: a loaded CI
        const list = await reg.getNotifications();
        if (list.length) {
          return list.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data }));
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      return [];
    }""")  # type: ignore[no-any-return]


async def test_alerts_screen_subscription_and_notification(
    api: Api, devices: Devices, push_service: PushService
) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag 65cl", stock=6, low_threshold=5)
    manager = await api.member(bar, "manager")
    tablet = await devices.open(manager, viewport=TABLET, ready="#stock-table")
    await tablet.context.grant_permissions(["notifications"], origin=api.server.base_url)
    await tablet.wait_worker_active()
    await live(tablet)
    page = tablet.page

    await page.click('a.tab[href="#/alerts"]')
    await page.wait_for_selector("#alerts-list li.empty")
    assert await page.text_content("#alerts-list") == "No alert yet."
    # the switch asks for permission and tries to subscribe; without a reachable push service
    # Chromium refuses, and the manager is told so (the switch stays off)
    await page.click("#push-toggle")
    await page.wait_for_selector('#push-toggle[data-state="off"]:not([disabled])')
    assert "Could not change notifications" in (await page.text_content("#push-status") or "")

    # the page's registration code, with a subscription of the local push service
    device = push_service.browser()
    subscription = {k: v for k, v in device.subscription([]).items() if k != "bar_ids"}
    await page.evaluate(
        """async ([barId, subscription]) => {
      const base = document.documentElement.dataset.static;
      const alerts = await import(`${base}js/alerts.js`);
      await alerts.registerSubscription(barId, subscription);
    }""",
        [bar.id, subscription],
    )

    # a sale crosses the threshold: the feed shows it live, the push service gets it
    assert (await api.sell(bar, {flag: 2})).status_code == 201
    await page.wait_for_selector(
        f'#alerts-list li[data-product-id="{flag}"][data-kind="low_stock"]'
    )
    assert "Flag 65cl: 4 left (alert at 5)" in (await page.text_content("#alerts-list") or "")
    [push] = await push_service.wait_for(1)
    assert push.token == device.token and push.payload["product_id"] == flag

    # Chromium hands the decrypted payload to the worker: it shows the notification
    await deliver_to_worker(tablet, api.server.base_url, push.payload)
    [shown] = await notifications(tablet)
    assert shown["title"] == "Low stock: Flag 65cl"
    assert shown["body"] == "4 left at Chez Test (alert at 5)."
    assert shown["tag"] == f"bt-{flag}"
    assert shown["data"]["url"].endswith(f"/#/ledger?product={flag}")


async def test_the_notification_speaks_the_device_language(api: Api, devices: Devices) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag 65cl", stock=1, low_threshold=5)
    manager = await api.member(bar, "manager")
    context = await devices.browser.new_context(
        viewport=TABLET, locale="fr-FR", service_workers="allow"
    )
    page = await context.new_page()
    app = App(context, page)
    page.on("pageerror", lambda exc: app.errors.append(f"pageerror: {exc}"))
    devices.apps.append(app)
    await context.grant_permissions(["notifications"], origin=api.server.base_url)
    await page.goto(f"{api.server.base_url}/")
    await page.fill("input[name=email]", manager.email)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("form.login button[type=submit]")
    await page.wait_for_selector("#stock-table")
    await app.wait_worker_active()

    payload = {
        "type": "out_of_stock",
        "bar_id": bar.id,
        "bar_name": "Chez Test",
        "product_id": flag,
        "product_name": "Flag 65cl",
        "stock": 0,
        "low_threshold": 5,
    }
    await deliver_to_worker(app, api.server.base_url, payload)
    [shown] = await notifications(app)
    assert shown["title"] == "Rupture : Flag 65cl"
    assert shown["body"] == "Plus aucun à Chez Test."


async def test_owner_manages_webhooks_and_sees_a_deactivated_one(
    api: Api, devices: Devices, database_url: str
) -> None:
    bar = await api.bar()
    await api.product(bar, "Flag", stock=10)
    tablet = await devices.open(bar.owner, viewport=TABLET, ready="#stock-table")
    page = tablet.page
    await page.click('a.tab[href="#/alerts"]')
    await page.wait_for_selector("#webhooks-list li.empty")
    await page.fill('#webhook-form input[name="url"]', "https://hooks.example.com/bartender")
    await page.check('#webhook-form input[value="sale.created"]')
    await page.click("#webhook-form button[type=submit]")
    await page.wait_for_selector("#webhook-secret:not([hidden]) code")
    secret = await page.text_content("#webhook-secret code") or ""
    assert len(secret) >= 43  # 32 random bytes, base64url
    [hook] = (await api.http.get(f"/api/bars/{bar.id}/webhooks", headers=bar.owner.headers)).json()[
        "webhooks"
    ]
    assert hook["url"] == "https://hooks.example.com/bartender"
    assert hook["events"] == ["sale.created", "stock.low"] and "secret" not in hook
    await page.wait_for_selector(
        f'#webhooks-list li[data-webhook-id="{hook["id"]}"][data-active="true"]'
    )

    # what the worker does after 24 hours of failures (tests/alerts covers how it gets there)
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "UPDATE webhooks SET active = false, deactivated_at = now(),"
            " last_error = 'HTTP 500' WHERE id = $1",
            uuid.UUID(hook["id"]),
        )
    finally:
        await conn.close()
    await page.click('a.tab[href="#/stock"]')
    await page.click('a.tab[href="#/alerts"]')
    row = page.locator(f'#webhooks-list li[data-webhook-id="{hook["id"]}"][data-active="false"]')
    assert (await row.text_content() or "").startswith("Inactive since")
    await row.locator("button").click()
    await page.wait_for_selector("#webhooks-list li.empty")
    assert (
        await api.http.get(f"/api/bars/{bar.id}/webhooks", headers=bar.owner.headers)
    ).json() == {"webhooks": []}
