"""Server-side request forgery (issue 12.23): webhook URLs and push endpoints never reach the
server's own network, whatever spelling of an address is used and whichever way aiohttp
parses it; checked at registration and again at every connection."""

from __future__ import annotations

import uuid

import aiohttp
import asyncpg
import httpx
import pytest

from bartender.alerts.delivery import (
    delivery_connector,
    host_problem,
    is_public_address,
    send_webhook,
)
from tests.alerts.conftest import alert_settings, last_errors, rows_written_before_the_rule
from tests.alerts.receivers import WebhookReceiver
from tests.support import Api, eventually, start_server

# Each of these reaches 127.0.0.1 (or a private network) through some parser or gateway.
NUMERIC_LOOPBACKS = ["2130706433", "0177.0.0.1", "0x7f.1", "127.1", "0x7f000001", "127.0.0.01"]
NOT_PUBLIC_V6 = [
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b:1::a00:1",  # local-use NAT64
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:0808:0808::1",  # 6to4 of a public address: still a translation
    "::ffff:127.0.0.1",
    "::127.0.0.1",
    "fe80::1",
    "ff02::1",
]


def test_non_canonical_numeric_hosts_are_refused() -> None:
    for host in NUMERIC_LOOPBACKS + ["8.8.8.08", "example.123", "1.2.3.4 x"]:
        assert host_problem(host), host
        assert is_public_address(host) is False, host
    for host in ["8.8.8.8", "hooks.example.com", "2001:4860:4860::8888", "[2001:db8::1]"]:
        assert host_problem(host) is None, host
    assert is_public_address("8.8.8.8") is True
    assert is_public_address("hooks.example.com") is None  # a name: resolved and checked later


def test_translation_prefixes_are_not_public() -> None:
    for host in NOT_PUBLIC_V6 + ["224.0.0.1", "100.64.0.1", "169.254.169.254", "0.0.0.0"]:
        assert is_public_address(host) is False, host
    assert is_public_address("2001:4860:4860::8888") is True


async def test_registration_refuses_numeric_and_translated_hosts(database_url: str) -> None:
    strict = alert_settings(database_url, allow_http_endpoints=False)
    async with start_server(strict) as server, httpx.AsyncClient(base_url=server.base_url) as http:
        api = Api(http, server)
        bar = await api.bar()
        hosts = NUMERIC_LOOPBACKS + [f"[{h}]" for h in NOT_PUBLIC_V6]
        for host in hosts:
            r = await http.post(
                f"/api/bars/{bar.id}/webhooks",
                headers=bar.owner.headers,
                json={"url": f"https://{host}/hook", "events": ["stock.changed"]},
            )
            assert r.status_code == 400, (host, r.text)
            assert r.json()["errors"][0]["field"] == "url"
        r = await http.post(
            "/api/push/subscriptions",
            headers=bar.owner.headers,
            json={
                "endpoint": "https://2130706433/push/x",
                "keys": {"p256dh": "x", "auth": "y"},
                "bar_ids": [bar.id],
            },
        )
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == "endpoint"


async def test_numeric_hosts_are_refused_even_where_http_is_allowed(api: Api) -> None:
    bar = await api.bar()
    r = await api.http.post(
        f"/api/bars/{bar.id}/webhooks",
        headers=bar.owner.headers,
        json={"url": "http://2130706433:8000/hook", "events": ["stock.changed"]},
    )
    assert r.status_code == 400 and "canonical" in r.json()["errors"][0]["message"]


async def test_the_connector_checks_every_address_it_connects_to(
    receiver: WebhookReceiver,
) -> None:
    """IP literals never reach a resolver: the socket factory still refuses them, whatever
    check came before (here none: the session is called directly)."""
    port = receiver.origin.rsplit(":", 1)[1]
    async with aiohttp.ClientSession(connector=delivery_connector(4, public_only=True)) as s:
        for url in (f"http://127.0.0.1:{port}/hooks/x", f"http://localhost:{port}/hooks/x"):
            with pytest.raises(aiohttp.ClientConnectorError):
                await s.post(url, data=b"{}", timeout=aiohttp.ClientTimeout(total=5))
        outcome = await send_webhook(
            s,
            url=f"http://0177.0.0.1:{port}/hooks/x",
            secret="s",
            event_id=str(uuid.uuid4()),
            event_type="stock.changed",
            body=b"{}",
            timeout_s=5,
            public_only=True,
        )
        assert not outcome.delivered and "canonical" in outcome.error
    assert receiver.deliveries == []


async def test_rows_written_before_the_rule_are_never_sent(
    receiver: WebhookReceiver, database_url: str
) -> None:
    strict = alert_settings(database_url, allow_http_endpoints=False)
    port = receiver.origin.rsplit(":", 1)[1]
    async with start_server(strict) as server, httpx.AsyncClient(base_url=server.base_url) as http:
        api = Api(http, server)
        bar = await api.bar()
        flag = await api.product(bar, "Flag", stock=50, low_threshold=5)
        conn = await asyncpg.connect(database_url)
        try:
            hook_ids = await rows_written_before_the_rule(
                conn,
                bar.id,
                [
                    f"http://{host}:{port}/hooks/inside"
                    for host in ("2130706433", "0177.0.0.1", "[::ffff:127.0.0.1]")
                ],
            )
            assert (await api.sell(bar, {flag: 1})).status_code == 201
            errors = await eventually(
                lambda: last_errors(conn, hook_ids), within=10, what="every hook refused"
            )
        finally:
            await conn.close()
    assert "canonical" in errors[0] and "canonical" in errors[1]
    assert errors[2] == "not a public address"
    assert receiver.deliveries == []
