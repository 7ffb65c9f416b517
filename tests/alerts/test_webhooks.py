"""Signed webhooks end to end, received by a real local HTTP receiver that checks every
signature with the recipe from docs/webhooks.md."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from aiohttp.resolver import DefaultResolver

from bartender.alerts.delivery import PublicResolver, signature_header
from tests.alerts.conftest import alert_settings, last_errors, rows_written_before_the_rule
from tests.alerts.receivers import WebhookReceiver, load_signature_recipe
from tests.alerts.test_push import outbox_drained
from tests.support import Api, Bar, eventually, start_server

ALL_EVENTS = ["sale.created", "sale.voided", "stock.changed", "stock.low"]


async def register(
    api: Api, bar: Bar, receiver: WebhookReceiver, name: str, events: list[str] | None = None
) -> dict[str, Any]:
    r = await api.http.post(
        f"/api/bars/{bar.id}/webhooks",
        headers=bar.owner.headers,
        json={"url": receiver.url(name), "events": events or ALL_EVENTS},
    )
    assert r.status_code == 201, r.text
    receiver.secrets[name] = r.json()["secret"]
    return r.json()  # type: ignore[no-any-return]


def test_documented_recipe_rejects_forgeries() -> None:
    verify = load_signature_recipe()
    body = b'{"id":"1","type":"stock.changed"}'
    header = signature_header("s3cret", body)
    assert verify("s3cret", header, body)
    assert not verify("s3cret", header, body + b" ")
    assert not verify("other", header, body)
    assert not verify("s3cret", signature_header("s3cret", body, int(time.time()) - 3600), body)
    assert not verify("s3cret", "v1=deadbeef", body)


async def test_webhooks_are_owner_managed_and_secret_shown_once(api: Api) -> None:
    bar = await api.bar()
    manager = await api.member(bar, "manager")
    stranger = await api.user()
    url = f"/api/bars/{bar.id}/webhooks"
    body = {"url": "https://hooks.example.com/bt", "events": ["stock.low", "stock.low"]}

    assert (await api.http.post(url, headers=manager.headers, json=body)).status_code == 403
    assert (await api.http.post(url, headers=stranger.headers, json=body)).status_code == 404
    r = await api.http.post(
        url,
        headers=bar.owner.headers,
        json={"url": "https://x.example", "events": ["stock.lowish"]},
    )
    assert r.status_code == 400 and r.json()["errors"][0]["field"].startswith("events")
    r = await api.http.post(url, headers=bar.owner.headers, json={**body, "events": []})
    assert r.status_code == 400
    r = await api.http.post(
        url, headers=bar.owner.headers, json={**body, "url": "ftp://x.example/a"}
    )
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "url"

    r = await api.http.post(url, headers=bar.owner.headers, json=body)
    assert r.status_code == 201
    created = r.json()
    assert created["events"] == ["stock.low"] and created["active"] is True
    assert len(base64.urlsafe_b64decode(created["secret"] + "=")) >= 32

    listed = (await api.http.get(url, headers=bar.owner.headers)).json()["webhooks"]
    assert [w["id"] for w in listed] == [created["id"]]
    assert "secret" not in listed[0] and listed[0]["active"] is True
    assert (await api.http.get(url, headers=manager.headers)).status_code == 403

    r = await api.http.delete(f"{url}/{created['id']}", headers=bar.owner.headers)
    assert r.status_code == 204
    r = await api.http.delete(f"{url}/{created['id']}", headers=bar.owner.headers)
    assert r.status_code == 404
    assert (await api.http.get(url, headers=bar.owner.headers)).json() == {"webhooks": []}


async def test_events_arrive_signed_complete_and_in_order(
    api: Api, receiver: WebhookReceiver, database_url: str
) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=6, low_threshold=5)
    await register(api, bar, receiver, "all")
    await register(api, bar, receiver, "lows", ["stock.low"])

    sale = (await api.sell(bar, {flag: 1})).json()  # 5: low
    void = await api.http.post(
        f"/api/bars/{bar.id}/sales/{sale['id']}/void",
        headers=bar.owner.headers,
        json={"reason": "wrong glass"},
    )
    assert void.status_code == 200
    delivery = (await api.deliver(bar, {flag: 4})).json()
    await receiver.wait_until(lambda: len(receiver.processed.get("all", [])) == 6)
    await outbox_drained(database_url)

    events = receiver.processed["all"]
    assert [e["type"] for e in events] == [
        "sale.created",
        "stock.changed",
        "stock.low",
        "sale.voided",
        "stock.changed",
        "stock.changed",
    ]
    assert [e["seq"] for e in events] == [sale["seq"]] * 3 + [void.json()["void_seq"]] * 2 + [
        delivery["seq"]
    ]
    assert all(e["bar_id"] == bar.id and e["at"].endswith("Z") for e in events)
    assert events[0]["data"] == sale
    assert events[1]["data"] == {"cause": "sale", "changes": [{"product_id": flag, "stock": 5}]}
    low = {
        "type": "low_stock",
        "bar_id": bar.id,
        "bar_name": "Chez Test",
        "product_id": flag,
        "product_name": "Flag",
        "stock": 5,
        "low_threshold": 5,
    }
    assert events[2]["data"] == low
    assert events[3]["data"] == void.json()
    assert events[5]["data"] == {
        "cause": "delivery",
        "changes": [{"product_id": flag, "stock": 10}],
    }
    assert [e["data"] for e in receiver.processed["lows"]] == [low]
    # one event, one id, whoever receives it; headers agree with the body
    assert receiver.processed["lows"][0]["id"] == events[2]["id"]
    for d in receiver.deliveries:
        assert d.verified and d.event_id == d.event["id"] and d.event_type == d.event["type"]
    assert len({e["id"] for e in events}) == 6


async def test_a_retried_delivery_has_the_same_id_and_body_and_keeps_order(
    api: Api, receiver: WebhookReceiver, database_url: str
) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=50, low_threshold=5)
    await register(api, bar, receiver, "flaky", ["sale.created"])
    # the first answer is lost as far as BarTender knows: the receiver got it, answered 500
    receiver.plans["flaky"] = [500]
    sales = [(await api.sell(bar, {flag: 1})).json() for _ in range(3)]
    await receiver.wait_until(lambda: len(receiver.processed.get("flaky", [])) == 3)
    await outbox_drained(database_url)

    requests = receiver.requests_to("flaky")
    assert len(requests) == 4 and receiver.duplicates == {"flaky": 1}
    first, retry = requests[0], requests[1]
    assert first.event_id == retry.event_id and first.body == retry.body
    assert [e["data"]["id"] for e in receiver.processed["flaky"]] == [s["id"] for s in sales]
    assert [r.event["data"]["number"] for r in requests] == [1, 1, 2, 3]


async def test_hanging_receiver_blocks_nobody_and_redirects_are_not_followed(
    api: Api, receiver: WebhookReceiver, database_url: str
) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=50, low_threshold=5)
    await register(api, bar, receiver, "slow", ["sale.created"])
    await register(api, bar, receiver, "moving", ["sale.created"])
    await register(api, bar, receiver, "fast", ["sale.created"])
    receiver.plans["slow"] = ["hang"]
    receiver.plans["moving"] = ["redirect"]
    started = time.monotonic()
    for _ in range(3):
        assert (await api.sell(bar, {flag: 1})).status_code == 201
    await receiver.wait_until(lambda: len(receiver.processed.get("fast", [])) == 3)
    fast_done = time.monotonic() - started
    # the attempt timeout is 2 s: "fast" did not wait for it
    assert fast_done < 1.5, fast_done
    assert "slow" not in receiver.processed

    await receiver.wait_until(lambda: len(receiver.processed.get("slow", [])) == 3, within_s=15)
    await receiver.wait_until(lambda: len(receiver.processed.get("moving", [])) == 3)
    await outbox_drained(database_url)
    assert not [d for d in receiver.deliveries if d.path.startswith("moved:")]
    for name in ("slow", "moving", "fast"):
        assert [e["data"]["number"] for e in receiver.processed[name]] == [1, 2, 3]


async def test_a_webhook_failing_past_the_window_is_deactivated(
    receiver: WebhookReceiver, database_url: str
) -> None:
    short_window = alert_settings(database_url, webhook_retry_window_s=1.0)
    async with (
        start_server(short_window) as other,
        httpx.AsyncClient(base_url=other.base_url) as http,
    ):
        owner = Api(http, other)
        bar = await owner.bar()
        flag = await owner.product(bar, "Flag", stock=50, low_threshold=5)
        broken = await register(owner, bar, receiver, "broken", ["stock.changed"])
        healthy = await register(owner, bar, receiver, "healthy", ["stock.changed"])
        receiver.plans["broken"] = [500] * 1000
        assert (await owner.sell(bar, {flag: 1})).status_code == 201
        url = f"/api/bars/{bar.id}/webhooks"

        async def deactivated() -> dict[str, dict[str, Any]] | None:
            listed = (await http.get(url, headers=bar.owner.headers)).json()["webhooks"]
            hooks = {w["id"]: w for w in listed}
            return None if hooks[broken["id"]]["active"] else hooks

        hooks = await eventually(deactivated, within=15, every=0.1, what="broken deactivated")
        shown = hooks[broken["id"]]
        assert shown["deactivated_at"] and shown["last_error"].startswith("HTTP 500")
        assert hooks[healthy["id"]]["active"] and hooks[healthy["id"]]["failing_since"] is None
        attempts = len(receiver.requests_to("broken"))
        assert attempts >= 3  # retried with backoff for the whole window

        assert (await owner.sell(bar, {flag: 1})).status_code == 201
        await receiver.wait_until(lambda: len(receiver.processed.get("healthy", [])) == 2)
        await outbox_drained(database_url)
        conn = await asyncpg.connect(database_url)
        try:
            assert (
                await conn.fetchval(
                    "SELECT count(*) FROM outbox WHERE webhook_id = $1", uuid.UUID(broken["id"])
                )
                == 0
            )
        finally:
            await conn.close()
        assert len(receiver.requests_to("broken")) == attempts  # never tried again


async def test_without_allow_http_no_private_address_is_called(
    receiver: WebhookReceiver, database_url: str
) -> None:
    """A name that resolves to a private address (here `localhost`, as a row written before
    the rule or re-pointed later) is refused at connection time; the receiver sees nothing."""
    assert await DefaultResolver().resolve("localhost", 443)  # the name itself resolves
    with pytest.raises(OSError, match="no public address"):
        await PublicResolver().resolve("localhost", 443)
    strict = alert_settings(database_url, allow_http_endpoints=False)
    async with start_server(strict) as other, httpx.AsyncClient(base_url=other.base_url) as http:
        owner = Api(http, other)
        bar = await owner.bar()
        flag = await owner.product(bar, "Flag", stock=50, low_threshold=5)
        port = receiver.origin.rsplit(":", 1)[1]
        conn = await asyncpg.connect(database_url)
        try:
            hook_ids = await rows_written_before_the_rule(
                conn,
                bar.id,
                [f"http://localhost:{port}/hooks/inside", f"http://127.0.0.1:{port}/hooks/inside"],
            )
            assert (await owner.sell(bar, {flag: 1})).status_code == 201
            errors = await eventually(
                lambda: last_errors(conn, hook_ids), within=10, what="every hook refused"
            )
        finally:
            await conn.close()
    assert errors[0].startswith("ClientConnectorDNSError") and errors[1] == "not a public address"
    assert receiver.deliveries == []
