"""The server switches a bar to `poll`: the page keeps its stock current through the polling
endpoint (with If-None-Match, at the interval the server gave) over its open socket."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from playwright.async_api import Request, Response

from bartender.settings import Settings
from tests.browser.devices import Devices, live
from tests.support import Api, make_settings


@pytest.fixture
def settings(database_url: str) -> Settings:
    # the bar stays in poll for the whole test once switched (no calm-down back to push)
    return make_settings(database_url, realtime_poll_calm_s=600.0)


async def test_page_keeps_updating_by_polling_when_the_server_says_poll(
    api: Api, devices: Devices
) -> None:
    bar = await api.bar()
    beer = await api.product(bar, "Flag", stock=30)
    staff = await api.member(bar, "staff")
    phone = await devices.open(staff)
    await live(phone)

    polls: list[Request] = []
    answers: list[int] = []

    def on_request(request: Request) -> None:
        if f"/api/bars/{bar.id}/stock" in request.url:
            polls.append(request)

    def on_response(response: Response) -> None:
        if f"/api/bars/{bar.id}/stock" in response.url:
            answers.append(response.status)

    phone.page.on("request", on_request)
    phone.page.on("response", on_response)

    # the realtime hub's own switch: records the mode (the polling endpoint reports it) and
    # sends `mode` to the bar's sockets
    hub = api.server.rt.hub
    hub.switch.set_policy_mode(uuid.UUID(bar.id), "poll", 1000)
    await phone.page.wait_for_selector('#conn-badge[data-state="polling"]', timeout=3000)

    await api.sell(bar, {beer: 4})
    await phone.wait_stock(beer, 26, within_ms=3000)
    await asyncio.sleep(2.2)  # two idle polls
    await api.sell(bar, {beer: 1})
    await phone.wait_stock(beer, 25, within_ms=3000)

    assert len(polls) >= 3
    assert all(r.headers.get("if-none-match", "").startswith('"') for r in polls)
    assert 304 in answers and 200 in answers
    assert await phone.page.get_attribute("#conn-badge", "data-state") == "polling"
