"""The operator's push/poll switch (issue 17 "Control") across two app instances that share
one PostgreSQL and no Redis: effective everywhere within a second, persisted, logged."""

from __future__ import annotations

import asyncio
import os
import sys

import httpx

from tests.realtime.wsclient import WsClient, check_stream
from tests.support import Api, make_settings, start_server


async def first_mode(ws: WsClient, within: float = 1.0) -> dict:
    """The next `mode` message, within a second (stock messages before it are returned
    by the caller's stream check, so none is expected here)."""
    message = await ws.recv(within)
    assert message["type"] == "mode", message
    return message


async def run_cli(database_url: str, *args: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bartender.cli",
        "mode",
        *args,
        env={**os.environ, "DATABASE_URL": database_url, "BARTENDER_LOG_LEVEL": "WARNING"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()


async def test_the_owner_forces_a_bar_into_poll_on_every_instance_and_back(
    database_url: str,
) -> None:
    settings = make_settings(database_url)
    async with (
        start_server(settings) as a,
        start_server(settings) as b,
        httpx.AsyncClient(base_url=a.base_url) as http,
        httpx.AsyncClient(base_url=b.base_url) as http_b,
    ):
        api = Api(http, a)
        bar = await api.bar()
        beer = await api.product(bar, stock=20)
        on_b = await WsClient.ready(b.ws_url, bar.owner.access_token)
        (snapshot,), mode = await on_b.subscribe(bar.id)
        assert mode["mode"] == "push"
        url = f"/api/bars/{bar.id}/live-mode"

        r = await http.put(url, headers=bar.owner.headers, json={"mode": "poll"})
        assert r.status_code == 200, r.text
        assert r.json() == {
            "bar_id": bar.id,
            "override": "poll",
            "mode": "poll",
            "poll_interval_ms": r.json()["poll_interval_ms"],
        }
        assert (await first_mode(on_b))["mode"] == "poll"  # the other instance, within 1 s
        polled = await http_b.get(f"/api/bars/{bar.id}/stock", headers=bar.owner.headers)
        assert polled.json()["mode"] == "poll"
        for _ in range(3):
            assert (await api.sell(bar, {beer: 1})).status_code == 201
        await on_b.nothing_for(0.3)  # in poll: no stock pushed
        got = await http.get(url, headers=bar.owner.headers)
        assert got.json()["override"] == "poll"

        # back to automatic: push again, and what was not pushed arrives in order
        r = await http.put(url, headers=bar.owner.headers, json={"mode": "auto"})
        assert r.json()["mode"] == "push"
        assert (await first_mode(on_b))["mode"] == "push"
        received = [await on_b.recv() for _ in range(3)]
        assert check_stream(received, snapshot["seq"]) == snapshot["seq"] + 3

        # owner only; a mode it does not know is 400
        manager = await api.member(bar, "manager")
        r = await http.put(url, headers=manager.headers, json={"mode": "poll"})
        assert r.status_code == 403
        r = await http.put(url, headers=bar.owner.headers, json={"mode": "off"})
        assert r.status_code == 400
        await on_b.close()


async def test_the_command_line_switches_every_bar_and_the_switch_persists(
    database_url: str,
) -> None:
    settings = make_settings(database_url)
    async with (
        start_server(settings) as a,
        start_server(settings) as b,
        httpx.AsyncClient(base_url=a.base_url) as http,
    ):
        api = Api(http, a)
        first, second = await api.bar(), await api.bar()
        on_a = await WsClient.ready(a.ws_url, first.owner.access_token)
        on_b = await WsClient.ready(b.ws_url, second.owner.access_token)
        await on_a.subscribe(first.id)
        await on_b.subscribe(second.id)

        await run_cli(database_url, "--all", "poll")
        modes = await asyncio.gather(first_mode(on_a), first_mode(on_b))
        assert [m["mode"] for m in modes] == ["poll", "poll"]
        # a bar nobody follows yet, on an instance started after the switch: poll too
        async with start_server(settings) as c, httpx.AsyncClient(base_url=c.base_url) as http_c:
            third = await Api(http_c, c).bar(first.owner)
            late = await WsClient.ready(c.ws_url, first.owner.access_token)
            _, mode = await late.subscribe(third.id)
            assert mode["mode"] == "poll"
            await late.close()

        await run_cli(database_url, "--all", "auto")
        modes = await asyncio.gather(first_mode(on_a), first_mode(on_b))
        assert [m["mode"] for m in modes] == ["push", "push"]

        await run_cli(database_url, "--bar", second.id, "poll")
        assert (await first_mode(on_b))["mode"] == "poll"
        await on_a.nothing_for(0.3)  # the other bar is untouched
        await run_cli(database_url, "--bar", second.id, "auto")
        assert (await first_mode(on_b))["mode"] == "push"
        await on_a.close()
        await on_b.close()
