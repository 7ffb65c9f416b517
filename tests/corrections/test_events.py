"""Webhook events of the corrections (issue 16): waste.recorded, transfer.sent and
transfer.received (each to its own bar's webhooks), return.approved, each with stock.changed,
written to the outbox in the stock transaction. The outbox worker is off so the rows stay."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import pytest

from bartender.settings import Settings
from tests.corrections.helpers import post
from tests.support import Api, Bar, make_settings

EVENTS = [
    "waste.recorded",
    "transfer.sent",
    "transfer.received",
    "return.approved",
    "stock.changed",
]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, alerts_worker=False)


async def hook(api: Api, bar: Bar) -> None:
    r = await api.http.post(
        f"/api/bars/{bar.id}/webhooks",
        headers=bar.owner.headers,
        json={"url": "https://hooks.example.com/bt", "events": EVENTS},
    )
    assert r.status_code == 201, r.text


async def events(database_url: str, bar: Bar) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT payload::text FROM outbox WHERE bar_id = $1 ORDER BY id", bar.id
        )
    finally:
        await conn.close()
    return [json.loads(r["payload"]) for r in rows]


async def test_corrections_raise_their_webhook_events(api: Api, database_url: str) -> None:
    a = await api.bar()
    b = await api.bar(owner=a.owner)
    flag_a = await api.product(a, "Flag", stock=10)
    flag_b = await api.product(b, "Flag")
    sale = (await api.sell(a, {flag_a: 2})).json()["id"]
    await hook(api, a)
    await hook(api, b)

    waste = await post(
        api.http, a, "waste", {"kind": "breakage", "items": [{"product_id": flag_a, "qty": 1}]}
    )
    ret = await post(
        api.http,
        a,
        f"sales/{sale}/returns",
        {"reason": "r", "items": [{"product_id": flag_a, "qty": 1, "disposition": "restock"}]},
    )
    transfer = await post(
        api.http,
        a,
        "transfers",
        {"to_bar_id": b.id, "items": [{"product_id": flag_a, "to_product_id": flag_b, "qty": 3}]},
    )
    assert {waste.status_code, ret.status_code, transfer.status_code} == {201}

    seen_a = [
        (e["type"], e["data"].get("cause") or e["data"]["id"])
        for e in await events(database_url, a)
    ]
    assert seen_a == [
        ("waste.recorded", waste.json()["id"]),
        ("stock.changed", "breakage"),
        ("return.approved", ret.json()["id"]),
        ("stock.changed", "return"),
        ("transfer.sent", transfer.json()["id"]),
        ("stock.changed", "transfer_out"),
    ]
    [received, changed] = await events(database_url, b)
    assert received["type"] == "transfer.received" and received["data"] == transfer.json()
    assert received["seq"] == transfer.json()["to_seq"]
    assert (changed["type"], changed["data"]["cause"]) == ("stock.changed", "transfer_in")
    first = await events(database_url, a)
    assert first[0]["data"] == waste.json() and first[2]["data"] == ret.json()
