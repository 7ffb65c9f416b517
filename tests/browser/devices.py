"""A device running the PWA in headless Chromium, and helpers the browser tests share.

Every page records uncaught errors and Content-Security-Policy violations; a test fails on
any of them (the app must run under its strict CSP, with no inline code).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from playwright.async_api import Browser, BrowserContext, Locator, Page

from tests.support import PASSWORD, RunningServer, User

PHONE = {"width": 360, "height": 740}
TABLET = {"width": 1280, "height": 800}


@dataclass
class App:
    """One device running the PWA (its own browser context: storage, service worker)."""

    context: BrowserContext
    page: Page
    errors: list[str] = field(default_factory=list)

    def tile(self, product_id: str) -> Locator:
        return self.page.locator(f'.tile[data-product-id="{product_id}"]')

    async def stock_shown(self, product_id: str) -> int:
        return int(await self.tile(product_id).get_attribute("data-stock") or "-1")

    async def wait_stock(self, product_id: str, stock: int, within_ms: float = 5000) -> None:
        """Until the product's tile shows this stock."""
        await self.page.wait_for_selector(
            f'.tile[data-product-id="{product_id}"][data-stock="{stock}"]', timeout=within_ms
        )

    async def sell(self, product_id: str, qty: int = 1) -> None:
        for _ in range(qty):
            await self.tile(product_id).click()
        await self.page.click("#sell-button")

    async def wait_worker_active(self) -> None:
        """Until the service worker is `activated` and controls the page (ENVIRONMENT.md)."""
        await self.page.evaluate("""async () => {
          const reg = await navigator.serviceWorker.ready;
          const worker = reg.active;
          if (worker.state !== "activated") {
            await new Promise((resolve) => worker.addEventListener("statechange",
              () => { if (worker.state === "activated") resolve(); }));
          }
          if (!navigator.serviceWorker.controller) {
            await new Promise((resolve) => navigator.serviceWorker.addEventListener(
              "controllerchange", resolve, { once: true }));
          }
        }""")

    def assert_clean(self) -> None:
        assert not self.errors, self.errors


class Devices:
    def __init__(self, browser: Browser, server: RunningServer) -> None:
        self.browser = browser
        self.server = server
        self.apps: list[App] = []

    async def open(
        self,
        user: User,
        *,
        viewport: dict[str, int] = PHONE,
        ready: str = ".tile",
        hash_: str = "",
        prepare: Callable[[BrowserContext], Awaitable[None]] | None = None,
    ) -> App:
        """A new device: open the app, log in through the form, wait for `ready`.

        `prepare` runs on the new context before the app opens (e.g. routes a socket).
        """
        context = await self.browser.new_context(
            viewport=viewport, locale="en-GB", service_workers="allow"
        )
        if prepare is not None:
            await prepare(context)
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
        self.apps.append(app)
        await page.goto(f"{self.server.base_url}/{hash_}")
        await page.fill("input[name=email]", user.email)
        await page.fill("input[name=password]", PASSWORD)
        await page.click("form.login button[type=submit]")
        await page.wait_for_selector(ready)
        return app

    async def close(self) -> None:
        for app in self.apps:
            await app.context.close()
        for app in self.apps:
            app.assert_clean()


async def live(app: App) -> None:
    """Until the page is subscribed over the websocket in push mode."""
    await app.page.wait_for_selector('#conn-badge[data-state="live"]', timeout=5000)
