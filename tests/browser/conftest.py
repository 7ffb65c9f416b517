"""Browser fixtures: Debian's headless Chromium driven by Playwright against the in-loop server."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, async_playwright

from tests.browser.devices import Devices
from tests.support import RunningServer

CHROMIUM = os.environ.get("BARTENDER_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 (one stat, before anything runs)
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def devices(browser: Browser, server: RunningServer) -> AsyncIterator[Devices]:
    opened = Devices(browser, server)
    try:
        yield opened
    finally:
        await opened.close()
