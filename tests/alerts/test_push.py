"""Low-stock Web Push end to end: stock functions -> outbox -> worker -> a real (local) push
service that verifies VAPID and decrypts the payload with the browser's keys."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import os
import uuid
from collections.abc import Awaitable
from typing import Any

import asyncpg
import httpx

from bartender.settings import Settings
from tests.alerts.conftest import VAPID_SUB
from tests.alerts.receivers import Browser, PushService, b64url_decode
from tests.support import Api, Bar, ServeProcess, User, eventually, start_server


async def subscribe(
    api: Api, user: User, bars: list[Bar], push_service: PushService, browser: Browser | None = None
) -> Browser:
    browser = browser or push_service.browser()
    r = await api.http.post(
        "/api/push/subscriptions",
        headers=user.headers,
        json=browser.subscription([b.id for b in bars]),
    )
    assert r.status_code == 201, r.text
    return browser


def expected(
    bar: Bar, product_id: str, name: str, kind: str, stock: int, threshold: int
) -> dict[str, Any]:
    return {
        "type": kind,
        "bar_id": bar.id,
        "bar_name": "Chez Test",
        "product_id": product_id,
        "product_name": name,
        "stock": stock,
        "low_threshold": threshold,
    }


async def alerts(api: Api, bar: Bar, user: User | None = None) -> list[dict[str, Any]]:
    r = await api.http.get(f"/api/bars/{bar.id}/alerts", headers=(user or bar.owner).headers)
    assert r.status_code == 200, r.text
    return r.json()["alerts"]  # type: ignore[no-any-return]


async def _is_zero(count: Awaitable[int]) -> bool:
    return await count == 0


async def outbox_drained(database_url: str, within_s: float = 10.0) -> None:
    """Every outbox row was deleted by a committed delivery: nothing more can be sent."""
    conn = await asyncpg.connect(database_url)
    try:
        await eventually(
            lambda: _is_zero(conn.fetchval("SELECT count(*) FROM outbox")),
            within=within_s,
            what="outbox drained",
        )
    finally:
        await conn.close()


async def test_vapid_key_is_generated_once_stored_and_shared(
    api: Api, settings: Settings, database_url: str
) -> None:
    r = await api.http.get("/api/push/vapid-public-key")  # no token needed
    assert r.status_code == 200
    key = r.json()["key"]
    point = b64url_decode(key)
    assert len(point) == 65 and point[0] == 4
    async with start_server(settings) as other:  # another instance, same database
        async with httpx.AsyncClient(base_url=other.base_url) as client:
            assert (await client.get("/api/push/vapid-public-key")).json()["key"] == key
    conn = await asyncpg.connect(database_url)
    try:
        stored = await conn.fetchval(
            "SELECT value FROM app_secrets WHERE name = 'vapid_p256_private'"
        )
    finally:
        await conn.close()
    assert len(b64url_decode(stored)) == 32


async def test_subscriptions_are_for_managers_and_checked(
    api: Api, push_service: PushService, settings: Settings
) -> None:
    bar = await api.bar()
    other_bar = await api.bar()
    staff = await api.member(bar, "staff")
    manager = await api.member(bar, "manager")
    browser = push_service.browser()
    url = "/api/push/subscriptions"

    assert (await api.http.post(url, json=browser.subscription([bar.id]))).status_code == 401
    r = await api.http.post(url, headers=staff.headers, json=browser.subscription([bar.id]))
    assert r.status_code == 403 and r.json()["type"] == "forbidden"
    r = await api.http.post(
        url, headers=manager.headers, json=browser.subscription([bar.id, other_bar.id])
    )
    assert r.status_code == 404 and r.json()["type"] == "not_found"
    bad_key = browser.subscription([bar.id])
    bad_key["keys"]["p256dh"] = base64.urlsafe_b64encode(os.urandom(65)).decode().rstrip("=")
    r = await api.http.post(url, headers=manager.headers, json=bad_key)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "keys.p256dh"
    bad_auth = browser.subscription([bar.id])
    bad_auth["keys"]["auth"] = "c2hvcnQ"
    r = await api.http.post(url, headers=manager.headers, json=bad_auth)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "keys.auth"
    unknown = {**browser.subscription([bar.id]), "extra": 1}
    assert (await api.http.post(url, headers=manager.headers, json=unknown)).status_code == 400

    # http endpoints only with BARTENDER_ALLOW_HTTP_ENDPOINTS (this test's settings allow it)
    strict = dataclasses.replace(settings, allow_http_endpoints=False)
    async with start_server(strict) as other, httpx.AsyncClient(base_url=other.base_url) as client:
        r = await client.post(url, headers=manager.headers, json=browser.subscription([bar.id]))
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == "endpoint"
        https = {**browser.subscription([bar.id]), "endpoint": "https://push.example.com/x/1"}
        assert (await client.post(url, headers=manager.headers, json=https)).status_code == 201
        for private in (
            "https://127.0.0.1:8443/x",
            "https://localhost/x",
            "https://[::1]/x",
            "https://10.1.2.3/x",
            "https://169.254.169.254/latest",
        ):
            r = await client.post(url, headers=manager.headers, json={**https, "endpoint": private})
            assert r.status_code == 400 and r.json()["errors"][0]["field"] == "endpoint", private
        r = await client.post(
            f"/api/bars/{bar.id}/webhooks",
            headers=bar.owner.headers,
            json={"url": "https://192.168.1.10/hook", "events": ["stock.low"]},
        )
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == "url"

    r = await api.http.post(url, headers=manager.headers, json=browser.subscription([bar.id]))
    assert r.status_code == 201 and r.json() == {"endpoint": browser.endpoint, "bar_ids": [bar.id]}
    # DELETE removes it: a crossing then sends nothing to this browser
    r = await api.http.request(
        "DELETE", url, headers=manager.headers, json={"endpoint": browser.endpoint}
    )
    assert r.status_code == 204
    flag = await api.product(bar, "Flag", stock=6, low_threshold=5)
    barrier = await subscribe(api, bar.owner, [bar], push_service)
    assert (await api.sell(bar, {flag: 2})).status_code == 201
    await push_service.wait_for(1)
    assert [p.token for p in push_service.pushes] == [barrier.token]


async def test_crossing_no_repeat_out_of_stock_and_rearm(
    api: Api, push_service: PushService, database_url: str
) -> None:
    bar = await api.bar()
    manager = await api.member(bar, "manager")
    flag = await api.product(bar, "Flag 65cl", stock=8, low_threshold=5)
    old_keys = await subscribe(api, manager, [bar], push_service)
    # the browser renewed its keys: subscribing the same endpoint again replaces them
    browser = Browser(old_keys.token, old_keys.endpoint)
    push_service.browsers[browser.token] = browser
    await subscribe(api, manager, [bar], push_service, browser)
    vapid_key = (await api.http.get("/api/push/vapid-public-key")).json()["key"]

    assert (await api.sell(bar, {flag: 2})).status_code == 201  # 6: above the threshold
    sale = await api.sell(bar, {flag: 2})  # 4: crosses
    assert sale.status_code == 201
    [push] = await push_service.wait_for(1)
    assert push.token == browser.token
    assert push.payload == expected(bar, flag, "Flag 65cl", "low_stock", 4, 5)
    assert push.vapid_key == vapid_key
    assert push.claims["aud"] == push_service.origin and push.claims["sub"] == VAPID_SUB
    assert push.headers["Urgency"] == "normal" and push.headers["TTL"] == "86400"
    assert push.headers["Topic"] == flag.replace("-", "")
    feed = await alerts(api, bar, manager)
    assert [(a["kind"], a["stock"], a["seq"]) for a in feed] == [
        ("low_stock", 4, sale.json()["seq"])
    ]

    # still low: no second alert (the feed proves it synchronously: same transaction)
    assert (await api.sell(bar, {flag: 1})).status_code == 201  # 3
    assert len(await alerts(api, bar)) == 1

    assert (await api.sell(bar, {flag: 3})).status_code == 201  # 0: out of stock
    pushes = await push_service.wait_for(2)
    assert pushes[1].payload == expected(bar, flag, "Flag 65cl", "out_of_stock", 0, 5)
    assert pushes[1].headers["Urgency"] == "high"

    # a delivery that leaves it low does not re-arm; selling out again says nothing
    await api.deliver(bar, {flag: 3})
    assert (await api.sell(bar, {flag: 3})).status_code == 201
    assert len(await alerts(api, bar)) == 2
    # above the threshold re-arms; the next fall alerts again
    await api.deliver(bar, {flag: 10})
    assert (await api.sell(bar, {flag: 6})).status_code == 201  # 4
    pushes = await push_service.wait_for(3)
    assert pushes[2].payload == expected(bar, flag, "Flag 65cl", "low_stock", 4, 5)
    assert [a["kind"] for a in await alerts(api, bar)] == ["low_stock", "out_of_stock", "low_stock"]
    await outbox_drained(database_url)
    assert len(push_service.pushes) == 3 and push_service.errors == []


async def test_counts_and_deliveries_cross_only_downwards(
    api: Api, push_service: PushService
) -> None:
    bar = await api.bar()
    browser = await subscribe(api, bar.owner, [bar], push_service)
    fresh = await api.product(bar, "Castel", stock=3, low_threshold=5)  # delivered onto 0: no alert
    counted = await api.product(bar, "Guinness", stock=20, low_threshold=5)
    assert await alerts(api, bar) == []
    r = await api.http.post(
        f"/api/bars/{bar.id}/stock-counts",
        headers=bar.owner.headers,
        json={
            "id": str(uuid.uuid4()),
            "counts": [{"product_id": counted, "counted": 2}, {"product_id": fresh, "counted": 4}],
        },
    )
    assert r.status_code == 201, r.text
    [push] = await push_service.wait_for(1)
    assert push.token == browser.token
    assert push.payload == expected(bar, counted, "Guinness", "low_stock", 2, 5)
    feed = await alerts(api, bar)
    assert [(a["product_id"], a["kind"]) for a in feed] == [(counted, "low_stock")]


async def test_gone_endpoint_is_unsubscribed(
    api: Api, push_service: PushService, database_url: str
) -> None:
    bar = await api.bar()
    gone = await subscribe(api, bar.owner, [bar], push_service)
    push_service.answers[gone.token] = [410]
    flag = await api.product(bar, "Flag", stock=6, low_threshold=5)
    assert (await api.sell(bar, {flag: 1})).status_code == 201
    conn = await asyncpg.connect(database_url)
    try:
        left = "SELECT count(*) FROM push_subscriptions WHERE endpoint = $1"
        await eventually(
            lambda: _is_zero(conn.fetchval(left, gone.endpoint)),
            within=10,
            what="410 removing the subscription",
        )
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 0
    finally:
        await conn.close()
    assert push_service.attempts == [(gone.token, 410)]
    assert push_service.pushes == []


async def test_failed_push_is_retried_then_delivered_once(
    api: Api, push_service: PushService, database_url: str
) -> None:
    bar = await api.bar()
    browser = await subscribe(api, bar.owner, [bar], push_service)
    push_service.answers[browser.token] = [500, 503]
    flag = await api.product(bar, "Flag", stock=6, low_threshold=5)
    assert (await api.sell(bar, {flag: 6})).status_code == 201
    [push] = await push_service.wait_for(1)
    assert push.payload == expected(bar, flag, "Flag", "out_of_stock", 0, 5)
    await outbox_drained(database_url)
    assert push_service.attempts == [
        (browser.token, 500),
        (browser.token, 503),
        (browser.token, 201),
    ]


async def test_two_instances_deliver_each_alert_exactly_once(
    api: Api, push_service: PushService, settings: Settings, database_url: str
) -> None:
    bar = await api.bar()
    browsers = [await subscribe(api, bar.owner, [bar], push_service) for _ in range(4)]
    products = [await api.product(bar, f"P{i}", stock=6, low_threshold=5) for i in range(6)]
    async with start_server(settings) as second:
        async with httpx.AsyncClient(base_url=second.base_url) as other:
            for i, product in enumerate(products):  # alternate the instance taking the sale
                client = api.http if i % 2 else other
                r = await client.post(
                    f"/api/bars/{bar.id}/sales",
                    headers=bar.owner.headers,
                    json={"id": str(uuid.uuid4()), "items": [{"product_id": product, "qty": 1}]},
                )
                assert r.status_code == 201, r.text
            await push_service.wait_for(len(browsers) * len(products))
            await outbox_drained(database_url)
    received = [(p.token, p.payload["product_id"]) for p in push_service.pushes]
    assert sorted(received) == sorted((b.token, p) for b in browsers for p in products)
    assert push_service.errors == []


async def test_instance_killed_mid_send_the_alert_is_still_delivered_once(
    push_service: PushService, settings: Settings, database_url: str
) -> None:
    """Instance A commits the sale and claims the outbox row, then dies before the push
    service answered. Instance B, started afterwards, delivers it: once."""
    push_service.stall_first = True
    no_worker = dataclasses.replace(settings, alerts_worker=False)  # only serves the setup
    async with start_server(no_worker) as setup, httpx.AsyncClient(base_url=setup.base_url) as http:
        api = Api(http, setup)
        bar = await api.bar()
        flag = await api.product(bar, "Flag", stock=6, low_threshold=5)
        browser = await subscribe(api, bar.owner, [bar], push_service)
        instance_a = ServeProcess(  # a real process to kill -9
            {
                "DATABASE_URL": database_url,
                "BARTENDER_ALLOW_HTTP_ENDPOINTS": "1",
                "BARTENDER_VAPID_SUB": VAPID_SUB,
            }
        )
        async with instance_a, httpx.AsyncClient(base_url=instance_a.base_url) as client:
            r = await client.post(
                f"/api/bars/{bar.id}/sales",
                headers=bar.owner.headers,
                json={"id": str(uuid.uuid4()), "items": [{"product_id": flag, "qty": 2}]},
            )
            assert r.status_code == 201, r.text
            await asyncio.wait_for(push_service.stalled.wait(), 10)  # A is mid-send
            instance_a.kill()
    assert push_service.pushes == []
    async with start_server(settings):  # instance B
        [push] = await push_service.wait_for(1)
        await outbox_drained(database_url)
    assert push.token == browser.token
    assert push.payload == expected(bar, flag, "Flag", "low_stock", 4, 5)
    assert len(push_service.pushes) == 1


async def test_alerts_cursor_must_be_ascii_digits(api: Api) -> None:
    """`"³".isdigit()` is true but int() refuses it: the cursor check once let it through (500)."""
    bar = await api.bar()
    for cursor in ("³", "١٢", "12a", "9" * 19):
        r = await api.http.get(
            f"/api/bars/{bar.id}/alerts", params={"before": cursor}, headers=bar.owner.headers
        )
        assert r.status_code == 400, (cursor, r.text)
        assert r.json()["type"] == "invalid_request"
