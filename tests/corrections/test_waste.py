"""Waste, offered and staff drinks (issue 16): shape, roles, valuation, idempotency,
all-or-nothing refusals, both ledgers and the live `stock` cause."""

from __future__ import annotations

import uuid

from tests.core.test_accounts import problem
from tests.core.test_stock_items import item, recipe
from tests.corrections.helpers import post
from tests.support import Api


async def test_breakage_takes_stock_values_it_and_writes_the_ledger(api: Api) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=10, price=1000, cost=600)
    seq = await api.seq(bar)
    r = await post(
        api.http,
        bar,
        "waste",
        {"kind": "breakage", "reason": "dropped", "items": [{"product_id": flag, "qty": 2}]},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["kind"] == "breakage" and body["reason"] == "dropped"
    assert body["seq"] == seq + 1
    assert body["items"] == [
        {"product_id": flag, "qty": 2, "value_cost": 1200, "value_price": 2000}
    ]
    assert (body["value_cost"], body["value_price"]) == (1200, 2000)
    assert body["stock"] == [{"product_id": flag, "stock": 8}]
    assert body["actor_id"] == bar.owner.id
    assert (await api.stock(bar))[flag] == 8
    r = await api.http.get(
        f"/api/bars/{bar.id}/movements", params={"after_seq": seq}, headers=bar.owner.headers
    )
    [m] = r.json()["movements"]
    assert (m["kind"], m["delta"], m["ref_id"]) == ("breakage", -2, body["id"])
    r = await api.http.get(f"/api/bars/{bar.id}/waste", headers=bar.owner.headers)
    assert [w["id"] for w in r.json()["waste"]] == [body["id"]]
    assert r.json()["waste"][0]["value_cost"] == 1200


async def test_a_cocktail_offered_takes_its_recipe_and_stock_items_take_packs(api: Api) -> None:
    bar = await api.bar()
    rum = await item(api, bar, "Rhum", "cl", {"bouteille": 70})
    mojito = await api.product(bar, "Mojito", price=3000, cost=900)
    await recipe(api, bar, mojito, {rum: 5})
    r = await post(
        api.http,
        bar,
        "deliveries",
        {"items": [{"stock_item_id": rum, "pack": "bouteille", "packs": 1}]},
    )
    assert r.status_code == 201, r.text
    r = await post(
        api.http,
        bar,
        "waste",
        {
            "kind": "offered",
            "items": [
                {"product_id": mojito, "qty": 2},
                {"stock_item_id": rum, "qty": 10},
            ],
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["items"][0]["value_price"] == 6000
    assert body["items"][1]["value_cost"] is None  # the rum is not sold on its own
    assert body["stock"] == [{"product_id": mojito, "stock": 10}]  # 70 - 10 - 10 = 50 cl


async def test_roles_staff_only_where_the_bar_allows_it(api: Api) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=5)
    staff = await api.member(bar, "staff")
    manager = await api.member(bar, "manager")
    body = {"kind": "staff_drink", "items": [{"product_id": flag, "qty": 1}]}
    r = await post(api.http, bar, "waste", body, user=staff)
    problem(r, 403, "forbidden")
    r = await post(api.http, bar, "waste", body, user=manager)
    assert r.status_code == 201, r.text
    outsider = await api.user()
    r = await post(api.http, bar, "waste", body, user=outsider)
    assert r.status_code == 404
    r = await api.http.get(f"/api/bars/{bar.id}/waste", headers=staff.headers)
    assert r.status_code == 403
    # the owner lets staff record it; a manager may not change that setting
    r = await api.http.patch(
        f"/api/bars/{bar.id}", headers=manager.headers, json={"staff_may_record_waste": True}
    )
    assert r.status_code == 403
    r = await api.http.patch(
        f"/api/bars/{bar.id}", headers=bar.owner.headers, json={"staff_may_record_waste": True}
    )
    assert r.status_code == 200 and r.json()["staff_may_record_waste"] is True
    r = await post(api.http, bar, "waste", body, user=staff)
    assert r.status_code == 201, r.text
    assert r.json()["actor_id"] == staff.id
    assert (await api.stock(bar))[flag] == 3


async def test_idempotent_replay_conflict_and_refused_op_keeps_its_id(api: Api) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=3)
    op = str(uuid.uuid4())
    too_much = {"kind": "expired", "items": [{"product_id": flag, "qty": 4}]}
    r = await post(api.http, bar, "waste", too_much, op_id=op)
    assert problem(r, 409, "insufficient_stock")["available"] == 3
    assert (await api.stock(bar))[flag] == 3
    ok = {"kind": "expired", "items": [{"product_id": flag, "qty": 3}]}
    first = await post(api.http, bar, "waste", ok, op_id=op)  # the refused id is still free
    assert first.status_code == 201, first.text
    again = await post(api.http, bar, "waste", ok, op_id=op)
    assert again.status_code == 200 and again.content == first.content
    other = await post(api.http, bar, "waste", {**ok, "kind": "spillage"}, op_id=op)
    problem(other, 409, "idempotency_conflict")
    # the same id is taken in the bar's one id space: a sale cannot reuse it
    problem(await api.sell(bar, {flag: 1}, sale_id=op), 409, "idempotency_conflict")
    assert (await api.stock(bar))[flag] == 0


async def test_bad_lines_are_4xx_and_change_nothing(api: Api) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=3)
    seq = await api.seq(bar)
    cases = [
        (
            {
                "kind": "breakage",
                "items": [
                    {"product_id": flag, "qty": 1},
                    {"product_id": str(uuid.uuid4()), "qty": 1},
                ],
            },
            "items[1].product_id",
        ),
        ({"kind": "breakage", "items": [{"qty": 1}]}, "items[0].product_id"),
        (
            {"kind": "breakage", "items": [{"product_id": flag, "pack": "casier", "packs": 1}]},
            "items[0].qty",
        ),
        ({"kind": "stolen", "items": [{"product_id": flag, "qty": 1}]}, "kind"),
        ({"kind": "breakage", "items": []}, "items"),
        (
            {"kind": "breakage", "items": [{"stock_item_id": flag, "pack": "casier", "packs": 1}]},
            "items[0].pack",
        ),
    ]
    for body, field in cases:
        r = await post(api.http, bar, "waste", body)
        errors = problem(r, 400, "invalid_request")["errors"]
        assert field in [e["field"] for e in errors], (field, r.text)
    assert await api.seq(bar) == seq
    assert (await api.stock(bar))[flag] == 3
