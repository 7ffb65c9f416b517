"""A new deploy: the installed app notices the new service worker and offers to reload."""

from __future__ import annotations

import dataclasses

import pytest

from bartender.pwa import assets
from tests.browser.devices import Devices
from tests.support import Api


async def test_new_version_is_offered_and_loaded_on_request(
    api: Api, devices: Devices, monkeypatch: pytest.MonkeyPatch
) -> None:
    bar = await api.bar()
    await api.product(bar, "Flag", stock=3)
    staff = await api.member(bar, "staff")
    phone = await devices.open(staff)
    await phone.wait_worker_active()
    page = phone.page
    old = assets.current()
    assert await page.get_attribute("html", "data-version") == old.version

    deployed = dataclasses.replace(old, version="f" * 12)  # what a deploy with new files gives
    monkeypatch.setattr(assets, "current", lambda: deployed)
    await page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
    banner = page.locator("#update-banner")
    await banner.wait_for(state="visible", timeout=10000)
    # it never reloads by itself (a seller may be mid-sale)
    assert await page.get_attribute("html", "data-version") == old.version

    async with page.expect_navigation():
        await banner.locator("button").click()
    await page.wait_for_selector(".tile")
    assert await page.get_attribute("html", "data-version") == deployed.version
    caches = await page.evaluate("caches.keys()")
    assert caches == [f"bartender-{deployed.version}"]  # the old version's cache is gone
