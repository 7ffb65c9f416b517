"""The bar is busy (row locks held past the lock timeout -> 503 busy): the phone says so, keeps
the sale and retries with backoff until it goes through, exactly once."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from bartender.settings import Settings
from tests.browser.devices import Devices
from tests.support import Api, make_settings


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, lock_timeout_ms=200)


async def test_busy_sale_is_retried_until_it_goes_through(
    api: Api, devices: Devices, database_url: str
) -> None:
    bar = await api.bar()
    beer = await api.product(bar, "Flag", stock=10)
    staff = await api.member(bar, "staff")
    phone = await devices.open(staff)
    page = phone.page

    blocker = await asyncpg.connect(database_url)
    try:
        # another transaction holds the product's row, as a long sale would
        lock = blocker.transaction()
        await lock.start()
        await blocker.execute("SELECT 1 FROM products WHERE id = $1 FOR UPDATE", beer)
        await phone.sell(beer, 3)
        await page.wait_for_selector('#sell-feedback[data-outcome="busy"]')
        await page.wait_for_selector('#pending-badge[data-pending="1"]')
        await asyncio.sleep(1.5)  # a retry or two meet the lock too
        await lock.rollback()
    finally:
        await blocker.close()

    await page.wait_for_selector("#pending-badge", state="hidden", timeout=15000)
    await phone.wait_stock(beer, 7)
    assert (await api.stock(bar))[beer] == 7
    sales = (await api.http.get(f"/api/bars/{bar.id}/sales", headers=bar.owner.headers)).json()
    assert len(sales["sales"]) == 1
