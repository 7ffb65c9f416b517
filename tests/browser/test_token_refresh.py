"""Access tokens expire while the phone is offline: the replay refreshes (rotating the
refresh token once, under a lock) and the outbox still goes through."""

from __future__ import annotations

import asyncio

import pytest

from bartender.settings import Settings
from tests.browser.devices import Devices
from tests.support import Api, make_settings


@pytest.fixture
def settings(database_url: str) -> Settings:
    # no reuse grace (issue 12.5 allows an immediate retry): a spent token must be refused here
    return make_settings(database_url, access_token_ttl_s=2, refresh_grace_s=0)


async def test_outbox_replays_after_the_access_token_expired(api: Api, devices: Devices) -> None:
    bar = await api.bar()
    beer = await api.product(bar, "Flag", stock=5)
    staff = await api.member(bar, "staff")
    phone = await devices.open(staff)
    session_before = await phone.page.evaluate(SESSION)

    await phone.context.set_offline(True)
    await phone.page.wait_for_selector('#conn-badge[data-state="offline"]')
    await phone.sell(beer, 2)
    await phone.page.wait_for_selector('#pending-badge[data-pending="1"]')
    await asyncio.sleep(2.5)  # the access token is now expired
    await phone.context.set_offline(False)
    await phone.page.wait_for_selector("#pending-badge", state="hidden", timeout=15000)

    bar.owner = await api.login(bar.owner.email)  # the test's own token expired too
    assert (await api.stock(bar))[beer] == 3
    session_after = await phone.page.evaluate(SESSION)
    assert session_after["refresh_token"] != session_before["refresh_token"]  # rotated
    # the old refresh token is spent: presenting it again is refused
    again = await api.http.post(
        "/api/auth/refresh", json={"refresh_token": session_before["refresh_token"]}
    )
    assert again.status_code == 401


SESSION = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("bartender");
  open.onsuccess = () => {
    const get = open.result.transaction("kv").objectStore("kv").get("session");
    get.onsuccess = () => resolve(get.result);
    get.onerror = () => reject(get.error);
  };
})"""
