"""Empties and deposits on sales (issue 16): a bottle consumed on the premises returns an empty
to the bar in the sale's transaction (same ledger and seq); a take-away line charges the
bottle's deposit and no empty comes back; a void reverses exactly what the sale did; replays
are byte-identical; the last bottle raced for leaves the empties exact."""

from __future__ import annotations

import uuid
from typing import Any

from tests.core.test_accounts import problem
from tests.corrections.test_empties import container, empties_of
from tests.corrections.test_returns import race
from tests.support import Api, Bar


async def flag_bar(api: Api, stock: int) -> tuple[Bar, str, dict[str, Any]]:
    """A bar selling Flag (its own stock item) in a 100 F bottle, also crated by 24."""
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=stock, price=800)
    bottle = await container(
        api, bar, "Bouteille 65 cl", 100, contents=[{"stock_item_id": flag, "qty": 1}]
    )
    await container(api, bar, "Casier 24", 2000, contents=[{"stock_item_id": flag, "qty": 24}])
    return bar, flag, bottle


async def sell(api: Api, bar: Bar, lines: list[dict[str, Any]], op: str | None = None) -> Any:
    return await api.http.post(
        f"/api/bars/{bar.id}/sales",
        headers=bar.owner.headers,
        json={"id": op or str(uuid.uuid4()), "items": lines},
    )


async def item_ledger(api: Api, bar: Bar, seq: int) -> dict[str, int]:
    """The item ledger rows of one seq, read where the server writes them."""
    async with api.server.rt.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT stock_item_id::text AS id, delta FROM item_movements"
            " WHERE bar_id = $1 AND seq = $2",
            uuid.UUID(bar.id),
            seq,
        )
    return {r["id"]: r["delta"] for r in rows}


async def test_on_premises_sale_brings_the_empty_back_in_its_own_seq(api: Api) -> None:
    bar, flag, bottle = await flag_bar(api, 10)
    r = await sell(api, bar, [{"product_id": flag, "qty": 3}])
    assert r.status_code == 201, r.text
    sale = r.json()
    # a v1.2 sale reads as before: no deposit fields
    assert "deposit_total" not in sale and sale["total"] == 2400
    assert sale["items"] == [{"product_id": flag, "qty": 3, "unit_price": 800, "line_total": 2400}]
    assert await empties_of(api, bar) == {"Bouteille 65 cl": 3, "Casier 24": 0}
    assert await item_ledger(api, bar, sale["seq"]) == {flag: -3, bottle["empties_item_id"]: 3}
    assert sale["seq"] == await api.seq(bar)


async def test_take_away_charges_the_deposit_and_no_empty_comes_back(api: Api) -> None:
    bar, flag, bottle = await flag_bar(api, 10)
    coke = await api.product(bar, "Coca", stock=5, price=500)  # no container: no deposit
    lines = [
        {"product_id": flag, "qty": 1, "take_away": True},
        {"product_id": coke, "qty": 1, "take_away": True},
        {"product_id": flag, "qty": 1, "take_away": True},
    ]
    op = str(uuid.uuid4())
    r = await sell(api, bar, lines, op)
    assert r.status_code == 201, r.text
    sale = r.json()
    assert sale["total"] == 2 * 800 + 500 and sale["deposit_total"] == 200
    by_product = {line["product_id"]: line for line in sale["items"]}
    assert by_product[flag] == {
        "product_id": flag,
        "qty": 2,
        "unit_price": 800,
        "line_total": 1600,
        "take_away": True,
        "deposit": 200,
    }
    assert by_product[coke]["deposit"] == 0 and by_product[coke]["take_away"] is True
    assert await empties_of(api, bar) == {"Bouteille 65 cl": 0, "Casier 24": 0}
    assert await item_ledger(api, bar, sale["seq"]) == {flag: -2, coke: -1}

    replay = await sell(api, bar, lines, op)
    assert replay.status_code == 200 and replay.content == r.content
    r = await sell(api, bar, [{"product_id": flag, "qty": 2}], op)
    problem(r, 409, "idempotency_conflict")

    # a product is take-away or not within one sale; nothing written
    seq = await api.seq(bar)
    r = await sell(
        api,
        bar,
        [{"product_id": flag, "qty": 1}, {"product_id": flag, "qty": 1, "take_away": True}],
    )
    assert problem(r, 400, "invalid_request")["errors"][0]["field"] == "items[0].take_away"
    assert await api.seq(bar) == seq and (await api.stock(bar))[flag] == 8

    r = await api.http.get(f"/api/bars/{bar.id}/sales", headers=bar.owner.headers)
    assert r.json()["sales"][0]["deposit_total"] == 200
    assert bottle["deposit"] == 100


async def test_void_reverses_empties_and_deposit_exactly(api: Api) -> None:
    bar, flag, bottle = await flag_bar(api, 10)
    coke = await api.product(bar, "Coca", stock=5, price=500)
    r = await sell(
        api,
        bar,
        [{"product_id": flag, "qty": 4}, {"product_id": coke, "qty": 2, "take_away": True}],
    )
    on_premises = r.json()["id"]
    r = await sell(api, bar, [{"product_id": flag, "qty": 2, "take_away": True}])
    take_away = r.json()
    assert await empties_of(api, bar) == {"Bouteille 65 cl": 4, "Casier 24": 0}

    # a container made after the sale changes nothing of what the void takes back
    await container(api, bar, "Canette", 50, contents=[{"stock_item_id": coke, "qty": 1}])
    void = f"/api/bars/{bar.id}/sales/{on_premises}/void"
    r = await api.http.post(void, headers=bar.owner.headers, json={"reason": "x"})
    assert r.status_code == 200, r.text
    assert await item_ledger(api, bar, r.json()["void_seq"]) == {
        flag: 4,
        coke: 2,
        bottle["empties_item_id"]: -4,
    }
    assert await empties_of(api, bar) == {"Bouteille 65 cl": 0, "Casier 24": 0, "Canette": 0}

    r = await api.http.post(
        f"/api/bars/{bar.id}/sales/{take_away['id']}/void",
        headers=bar.owner.headers,
        json={"reason": "x"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["deposit_total"] == 200  # refunded with the total
    assert await item_ledger(api, bar, r.json()["void_seq"]) == {flag: 2}
    assert (await api.stock(bar))[flag] == 10


async def test_void_refused_when_the_empties_have_left(api: Api) -> None:
    bar, flag, bottle = await flag_bar(api, 10)
    sale = (await sell(api, bar, [{"product_id": flag, "qty": 2}])).json()["id"]
    r = await api.http.post(
        f"/api/bars/{bar.id}/waste",
        headers=bar.owner.headers,
        json={
            "id": str(uuid.uuid4()),
            "kind": "breakage",
            "items": [{"stock_item_id": bottle["empties_item_id"], "qty": 1}],
        },
    )
    assert r.status_code == 201, r.text
    seq = await api.seq(bar)
    r = await api.http.post(
        f"/api/bars/{bar.id}/sales/{sale}/void", headers=bar.owner.headers, json={"reason": "x"}
    )
    detail = problem(r, 409, "insufficient_stock")
    assert detail["stock_item_id"] == bottle["empties_item_id"] and detail["available"] == 1
    assert await api.seq(bar) == seq and (await api.stock(bar))[flag] == 8


async def test_race_for_the_last_bottle_keeps_the_empties_exact(api: Api) -> None:
    bar, flag, _ = await flag_bar(api, 0)
    for _ in range(4):
        await api.deliver(bar, {flag: 1})
        bodies = [
            {"id": str(uuid.uuid4()), "items": [{"product_id": flag, "qty": 1, **extra}]}
            for extra in ({}, {"take_away": True})
        ]
        path = f"/api/bars/{bar.id}/sales"
        statuses = await race(api, [("sale", path, b) for b in bodies], bar.owner)
        assert sorted(statuses) == [201, 409], statuses
        assert (await api.stock(bar))[flag] == 0
    r = await api.http.get(f"/api/bars/{bar.id}/sales?limit=50", headers=bar.owner.headers)
    sold = r.json()["sales"]
    assert len(sold) == 4
    on_premises = sum(1 for s in sold if "deposit_total" not in s)
    assert (await empties_of(api, bar))["Bouteille 65 cl"] == on_premises
