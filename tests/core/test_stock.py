"""Contract: products, sales, deliveries, voids, counts, the ledger, sales pages and stats."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from tests.core.test_accounts import problem
from tests.support import Api, Bar


def sale_body(items: dict[str, int], sale_id: str | None = None, **extra: object) -> dict:
    return {
        "id": sale_id or str(uuid.uuid4()),
        "items": [{"product_id": p, "qty": q} for p, q in items.items()],
        **extra,
    }


# ---------------------------------------------------------------- products


async def test_products_create_patch_list(api: Api) -> None:
    bar = await api.bar()
    staff = await api.member(bar, "staff")
    r = await api.http.post(
        f"/api/bars/{bar.id}/products",
        headers=bar.owner.headers,
        json={
            "name": "Flag",
            "category": "Bières",
            "price": 800,
            "low_threshold": 6,
            "par_level": 48,
        },
    )
    assert r.status_code == 201
    product = r.json()
    assert {k: v for k, v in product.items() if k != "id"} == {
        "name": "Flag",
        "category": "Bières",
        "price": 800,
        "low_threshold": 6,
        "par_level": 48,
        "cost": None,
        "stock": 0,
        "active": True,
    }
    url = f"/api/bars/{bar.id}/products/{product['id']}"
    patched = await api.http.patch(
        url, headers=bar.owner.headers, json={"price": 900, "cost": 550, "active": False}
    )
    assert patched.json() | {} == product | {"price": 900, "cost": 550, "active": False}
    cleared = await api.http.patch(url, headers=bar.owner.headers, json={"cost": None})
    assert cleared.json()["cost"] is None and cleared.json()["price"] == 900
    problem(
        await api.http.patch(url, headers=bar.owner.headers, json={"stock": 99}),
        400,
        "invalid_request",
    )
    problem(await api.http.patch(url, headers=staff.headers, json={"price": 1}), 403, "forbidden")
    problem(
        await api.http.post(
            f"/api/bars/{bar.id}/products",
            headers=staff.headers,
            json={"name": "X", "category": "", "price": 1, "low_threshold": 0, "par_level": 0},
        ),
        403,
        "forbidden",
    )
    problem(
        await api.http.patch(
            f"/api/bars/{bar.id}/products/{uuid.uuid4()}",
            headers=bar.owner.headers,
            json={"price": 1},
        ),
        404,
        "not_found",
    )
    listed = (await api.http.get(f"/api/bars/{bar.id}/products", headers=staff.headers)).json()
    assert listed["seq"] == 0 and [p["id"] for p in listed["products"]] == [product["id"]]


@pytest.mark.parametrize(
    "patch",
    [{"price": -1}, {"price": 1.5}, {"price": "eight"}, {"low_threshold": -2}, {"name": ""}],
)
async def test_product_validation(api: Api, patch: dict) -> None:
    bar = await api.bar()
    body = {"name": "Flag", "category": "B", "price": 800, "low_threshold": 1, "par_level": 1}
    r = await api.http.post(
        f"/api/bars/{bar.id}/products", headers=bar.owner.headers, json=body | patch
    )
    assert problem(r, 400, "invalid_request")["errors"][0]["field"] == next(iter(patch))


# ---------------------------------------------------------------- sales


async def test_sale_shape_merging_totals_and_receipt_numbers(api: Api) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=10, price=800)
    coke = await api.product(bar, "Coca", stock=5, price=500)
    staff = await api.member(bar, "staff")
    body = {
        "id": str(uuid.uuid4()),
        "items": [
            {"product_id": flag, "qty": 2},
            {"product_id": coke, "qty": 1},
            {"product_id": flag, "qty": 1},
        ],
    }
    r = await api.http.post(f"/api/bars/{bar.id}/sales", headers=staff.headers, json=body)
    assert r.status_code == 201, r.text
    sale = r.json()
    assert set(sale) >= {
        "id",
        "bar_id",
        "seq",
        "number",
        "total",
        "created_at",
        "business_date",
        "items",
        "stock",
    }
    assert sale["id"] == body["id"] and sale["bar_id"] == bar.id
    assert sale["seq"] == 3 and sale["number"] == 1 and sale["total"] == 3 * 800 + 500
    assert sorted(sale["items"], key=lambda i: i["qty"]) == [
        {"product_id": coke, "qty": 1, "unit_price": 500, "line_total": 500},
        {"product_id": flag, "qty": 3, "unit_price": 800, "line_total": 2400},
    ]
    assert {s["product_id"]: s["stock"] for s in sale["stock"]} == {flag: 7, coke: 4}
    assert sale["created_at"].endswith("Z")
    second = await api.sell(bar, {flag: 1}, user=staff)
    assert second.json()["number"] == 2 and second.json()["seq"] == 4


async def test_insufficient_stock_changes_nothing(api: Api) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=3)
    coke = await api.product(bar, "Coca", stock=1)
    seq = await api.seq(bar)
    r = await api.sell(bar, {flag: 2, coke: 1})
    assert r.status_code == 201
    r = await api.sell(bar, {flag: 1, coke: 1})  # flag is fine, coke is out
    body = problem(r, 409, "insufficient_stock")
    assert (body["product_id"], body["requested"], body["available"]) == (coke, 1, 0)
    merged = await api.http.post(
        f"/api/bars/{bar.id}/sales",
        headers=bar.owner.headers,
        json={
            "id": str(uuid.uuid4()),
            "items": [{"product_id": flag, "qty": 1}, {"product_id": flag, "qty": 1}],
        },
    )
    body = problem(merged, 409, "insufficient_stock")
    assert (body["requested"], body["available"]) == (2, 1)
    assert await api.stock(bar) == {flag: 1, coke: 0}
    assert await api.seq(bar) == seq + 1


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda b, p: b | {"items": []}, "items"),
        (lambda b, p: b | {"items": [{"product_id": p, "qty": 0}]}, "items[0].qty"),
        (lambda b, p: b | {"items": [{"product_id": p, "qty": 1000}]}, "items[0].qty"),
        (lambda b, p: b | {"items": [{"product_id": p, "qty": 1}] * 51}, "items"),
        (lambda b, p: b | {"items": [{"product_id": "nope", "qty": 1}]}, "items[0].product_id"),
        (lambda b, p: b | {"id": "not-a-uuid"}, "id"),
        (lambda b, p: b | {"occurred_at": "yesterday"}, "occurred_at"),
        (lambda b, p: b | {"occurred_at": "2026-11-22T10:00:00"}, "occurred_at"),  # no zone
        (lambda b, p: b | {"extra": 1}, "extra"),
    ],
)
async def test_sale_validation(api: Api, mutate, field: str) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=5)
    r = await api.http.post(
        f"/api/bars/{bar.id}/sales",
        headers=bar.owner.headers,
        json=mutate(sale_body({flag: 1}), flag),
    )
    assert problem(r, 400, "invalid_request")["errors"][0]["field"] == field
    assert (await api.stock(bar))[flag] == 5


async def test_unknown_or_inactive_product_is_400(api: Api) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=5)
    other_bar = await api.bar(bar.owner)
    foreign = await api.product(other_bar, "Foreign", stock=5)
    for product in (str(uuid.uuid4()), foreign):
        problem(await api.sell(bar, {product: 1}), 400, "invalid_request")
    await api.http.patch(
        f"/api/bars/{bar.id}/products/{flag}", headers=bar.owner.headers, json={"active": False}
    )
    problem(await api.sell(bar, {flag: 1}), 400, "invalid_request")
    assert (await api.stock(other_bar))[foreign] == 5


async def test_unknown_product_error_names_the_line(api: Api) -> None:
    """Issue 12.11: the path of the offending line, for sales, deliveries and counts."""
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=5)
    unknown = str(uuid.uuid4())
    base = f"/api/bars/{bar.id}"
    cases = [
        (
            "/sales",
            {"items": [{"product_id": flag, "qty": 1}, {"product_id": unknown, "qty": 1}]},
            "items[1].product_id",
        ),
        ("/deliveries", {"items": [{"product_id": unknown, "qty": 1}]}, "items[0].product_id"),
        (
            "/stock-counts",
            {"counts": [{"product_id": flag, "counted": 1}, {"product_id": unknown, "counted": 2}]},
            "counts[1].product_id",
        ),
    ]
    for path, body, field in cases:
        r = await api.http.post(
            base + path, headers=bar.owner.headers, json={"id": str(uuid.uuid4()), **body}
        )
        assert problem(r, 400, "invalid_request")["errors"][0]["field"] == field
    assert (await api.stock(bar))[flag] == 5


async def test_occurred_at_far_in_the_future_is_400(api: Api) -> None:
    """Issue 12.24: a few minutes ahead is clock skew, more is a wrong clock (default 5 min)."""
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=5)
    now = dt.datetime.now(dt.UTC)
    r = await api.sell(bar, {flag: 1}, occurred_at=(now + dt.timedelta(minutes=6)).isoformat())
    assert problem(r, 400, "invalid_request")["errors"][0]["field"] == "occurred_at"
    assert (await api.stock(bar))[flag] == 5
    r = await api.sell(bar, {flag: 1}, occurred_at=(now + dt.timedelta(minutes=2)).isoformat())
    assert r.status_code == 201
    assert (await api.stock(bar))[flag] == 4


async def test_occurred_at_is_kept_and_sets_the_business_day(api: Api) -> None:
    bar = await api.bar(timezone="Africa/Abidjan")  # UTC+0, day starts 06:00
    flag = await api.product(bar, "Flag", stock=5)
    night = dt.datetime.now(dt.UTC).replace(hour=1, minute=30, second=0, microsecond=0)
    if night > dt.datetime.now(dt.UTC):  # not in the future (refused since issue 12.24)
        night -= dt.timedelta(days=1)
    r = await api.sell(bar, {flag: 1}, occurred_at=night.isoformat())
    assert r.status_code == 201
    sale = r.json()
    assert dt.datetime.fromisoformat(sale["occurred_at"]) == night
    assert sale["business_date"] == (night.date() - dt.timedelta(days=1)).isoformat()


# ---------------------------------------------------------------- idempotency


async def test_replay_returns_the_original_body_even_after_a_void(api: Api) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=5)
    body = sale_body({flag: 2})
    url = f"/api/bars/{bar.id}/sales"
    first = await api.http.post(url, headers=bar.owner.headers, json=body)
    again = await api.http.post(url, headers=bar.owner.headers, json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.content == first.content
    await api.http.post(
        f"{url}/{body['id']}/void", headers=bar.owner.headers, json={"reason": "mistake"}
    )
    after_void = await api.http.post(url, headers=bar.owner.headers, json=body)
    assert after_void.status_code == 200 and after_void.content == first.content
    assert (await api.stock(bar))[flag] == 5


async def test_same_id_different_body_or_kind_is_a_conflict(api: Api) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=5)
    body = sale_body({flag: 1})
    assert (
        await api.http.post(f"/api/bars/{bar.id}/sales", headers=bar.owner.headers, json=body)
    ).status_code == 201
    problem(
        await api.http.post(
            f"/api/bars/{bar.id}/sales",
            headers=bar.owner.headers,
            json=sale_body({flag: 2}, body["id"]),
        ),
        409,
        "idempotency_conflict",
    )
    problem(
        await api.http.post(
            f"/api/bars/{bar.id}/deliveries",
            headers=bar.owner.headers,
            json=sale_body({flag: 1}, body["id"]),
        ),
        409,
        "idempotency_conflict",
    )
    problem(
        await api.http.post(
            f"/api/bars/{bar.id}/stock-counts",
            headers=bar.owner.headers,
            json={"id": body["id"], "counts": [{"product_id": flag, "counted": 1}]},
        ),
        409,
        "idempotency_conflict",
    )
    assert (await api.stock(bar))[flag] == 4


async def test_a_refused_operation_does_not_use_up_its_id(api: Api) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=1)
    body = sale_body({flag: 3})
    url = f"/api/bars/{bar.id}/sales"
    problem(
        await api.http.post(url, headers=bar.owner.headers, json=body), 409, "insufficient_stock"
    )
    await api.deliver(bar, {flag: 5})
    retry = await api.http.post(url, headers=bar.owner.headers, json=body)
    assert retry.status_code == 201 and (await api.stock(bar))[flag] == 3


async def test_ids_are_per_bar(api: Api) -> None:
    bar_a, bar_b = await api.bar(), await api.bar()
    pa = await api.product(bar_a, stock=2)
    pb = await api.product(bar_b, stock=2)
    shared = str(uuid.uuid4())
    assert (await api.sell(bar_a, {pa: 1}, sale_id=shared)).status_code == 201
    assert (await api.sell(bar_b, {pb: 1}, sale_id=shared)).status_code == 201


# ---------------------------------------------------------------- deliveries


async def test_delivery_shape_roles_and_reference_first_wins(api: Api) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag")
    staff = await api.member(bar, "staff")
    manager = await api.member(bar, "manager")
    url = f"/api/bars/{bar.id}/deliveries"
    body = {
        "id": str(uuid.uuid4()),
        "items": [{"product_id": flag, "qty": 24}],
        "supplier": "Solibra",
        "reference": "BL-2026-118",
    }
    problem(await api.http.post(url, headers=staff.headers, json=body), 403, "forbidden")
    r = await api.http.post(url, headers=manager.headers, json=body)
    assert r.status_code == 201
    delivery = r.json()
    assert set(delivery) >= {
        "id",
        "bar_id",
        "seq",
        "items",
        "supplier",
        "reference",
        "created_at",
        "stock",
    }
    assert delivery["items"] == [{"product_id": flag, "qty": 24}]
    assert delivery["stock"] == [{"product_id": flag, "stock": 24}]
    assert (delivery["supplier"], delivery["reference"]) == ("Solibra", "BL-2026-118")
    dup = await api.http.post(url, headers=bar.owner.headers, json=body | {"id": str(uuid.uuid4())})
    assert problem(dup, 409, "duplicate_delivery")["delivery_id"] == delivery["id"]
    assert (await api.stock(bar))[flag] == 24
    # an empty reference never conflicts
    for _ in range(2):
        await api.deliver(bar, {flag: 1}, reference="")
    for bad in ({"qty": 0}, {"qty": 100_001}):
        problem(
            await api.http.post(
                url,
                headers=manager.headers,
                json={"id": str(uuid.uuid4()), "items": [{"product_id": flag} | bad]},
            ),
            400,
            "invalid_request",
        )


# ---------------------------------------------------------------- voids


async def test_void_restocks_once_and_returns_the_same_body(api: Api) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=5)
    staff = await api.member(bar, "staff")
    sale = (await api.sell(bar, {flag: 2}, user=staff)).json()
    url = f"/api/bars/{bar.id}/sales/{sale['id']}/void"
    problem(await api.http.post(url, headers=staff.headers, json={"reason": "x"}), 403, "forbidden")
    first = await api.http.post(url, headers=bar.owner.headers, json={"reason": "wrong drink"})
    assert first.status_code == 200
    voided = first.json()
    assert voided["void_reason"] == "wrong drink" and voided["voided_at"].endswith("Z")
    assert voided["void_seq"] == sale["seq"] + 1
    assert voided["stock"] == [{"product_id": flag, "stock": 5}]
    assert voided["number"] == sale["number"] and voided["items"] == sale["items"]
    second = await api.http.post(url, headers=bar.owner.headers, json={"reason": "again"})
    assert second.status_code == 200 and second.content == first.content
    assert (await api.stock(bar))[flag] == 5
    assert await api.seq(bar) == voided["void_seq"]
    problem(
        await api.http.post(
            f"/api/bars/{bar.id}/sales/{uuid.uuid4()}/void",
            headers=bar.owner.headers,
            json={"reason": "x"},
        ),
        404,
        "not_found",
    )
    problem(await api.http.post(url, headers=bar.owner.headers, json={}), 400, "invalid_request")


# ---------------------------------------------------------------- counts


async def test_count_keeps_expected_counted_and_variance(api: Api) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=10, price=800, cost=550)
    bissap = await api.product(bar, "Bissap", stock=4, price=500, cost=None)
    seq = await api.seq(bar)
    url = f"/api/bars/{bar.id}/stock-counts"
    body = {
        "id": str(uuid.uuid4()),
        "reason": "weekly",
        "counts": [{"product_id": flag, "counted": 7}, {"product_id": bissap, "counted": 4}],
    }
    r = await api.http.post(url, headers=bar.owner.headers, json=body)
    assert r.status_code == 201, r.text
    count = r.json()
    assert count["seq"] == seq + 1
    lines = {line["product_id"]: line for line in count["lines"]}
    assert lines[flag] == {
        "product_id": flag,
        "expected": 10,
        "counted": 7,
        "variance": -3,
        "variance_value": -2400,
        "variance_cost": -1650,
    }
    assert lines[bissap] == {
        "product_id": bissap,
        "expected": 4,
        "counted": 4,
        "variance": 0,
        "variance_value": 0,
        "variance_cost": None,
    }
    assert {s["product_id"]: s["stock"] for s in count["stock"]} == {flag: 7, bissap: 4}
    assert await api.stock(bar) == {flag: 7, bissap: 4}
    # a count that changes nothing leaves seq alone
    same = await api.http.post(
        url,
        headers=bar.owner.headers,
        json={"id": str(uuid.uuid4()), "counts": [{"product_id": flag, "counted": 7}]},
    )
    assert same.status_code == 201 and same.json()["seq"] == seq + 1
    assert await api.seq(bar) == seq + 1
    replay = await api.http.post(url, headers=bar.owner.headers, json=body)
    assert replay.status_code == 200 and replay.content == r.content
    staff = await api.member(bar, "staff")
    problem(
        await api.http.post(
            url,
            headers=staff.headers,
            json={"id": str(uuid.uuid4()), "counts": [{"product_id": flag, "counted": 1}]},
        ),
        403,
        "forbidden",
    )
    problem(
        await api.http.post(
            url,
            headers=bar.owner.headers,
            json={"id": str(uuid.uuid4()), "counts": [{"product_id": flag, "counted": -1}]},
        ),
        400,
        "invalid_request",
    )


# ---------------------------------------------------------------- ledger, pages, stats


async def test_movements_ledger_pages_hold_whole_transactions(api: Api) -> None:
    bar = await api.bar()
    a = await api.product(bar, "A")
    b = await api.product(bar, "B")
    c = await api.product(bar, "C")
    await api.deliver(bar, {a: 10, b: 10, c: 10})  # seq 1: 3 rows
    await api.sell(bar, {a: 1})  # seq 2
    await api.sell(bar, {b: 2, c: 1})  # seq 3: 2 rows
    url = f"/api/bars/{bar.id}/movements"
    page = (await api.http.get(url, headers=bar.owner.headers, params={"limit": 2})).json()[
        "movements"
    ]
    assert [m["seq"] for m in page] == [1, 1, 1]  # one larger transaction, whole
    page = (
        await api.http.get(url, headers=bar.owner.headers, params={"after_seq": 1, "limit": 2})
    ).json()["movements"]
    assert [m["seq"] for m in page] == [2]  # seq 3 would overflow the limit
    page = (
        await api.http.get(url, headers=bar.owner.headers, params={"after_seq": 1, "limit": 3})
    ).json()["movements"]
    assert [m["seq"] for m in page] == [2, 3, 3]
    m = page[0]
    assert set(m) == {
        "seq",
        "product_id",
        "delta",
        "stock_after",
        "kind",
        "ref_id",
        "actor_id",
        "at",
    }
    assert (m["product_id"], m["delta"], m["stock_after"], m["kind"]) == (a, -1, 9, "sale")
    only_a = (await api.http.get(url, headers=bar.owner.headers, params={"product_id": a})).json()[
        "movements"
    ]
    assert [(x["seq"], x["delta"]) for x in only_a] == [(1, 10), (2, -1)]
    problem(
        await api.http.get(url, headers=bar.owner.headers, params={"limit": 0}),
        400,
        "invalid_request",
    )


async def test_sales_pages_newest_first_with_keyset_cursor(api: Api) -> None:
    bar = await api.bar()
    flag = await api.product(bar, stock=50)
    ids = [(await api.sell(bar, {flag: 1})).json()["id"] for _ in range(5)]
    url = f"/api/bars/{bar.id}/sales"
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"before": cursor} if cursor else {})
        page = (await api.http.get(url, headers=bar.owner.headers, params=params)).json()
        seen += [s["id"] for s in page["sales"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == ids[::-1]
    problem(
        await api.http.get(url, headers=bar.owner.headers, params={"before": "garbage!"}),
        400,
        "invalid_request",
    )


async def test_stats_today_excludes_voids_and_lists_low_stock(
    api: Api,
) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=10, price=800, low_threshold=5)
    coke = await api.product(bar, "Coca", stock=3, price=500, low_threshold=5)
    await api.sell(bar, {flag: 4})
    await api.sell(bar, {coke: 1, flag: 1})
    voided = (await api.sell(bar, {flag: 2})).json()
    await api.http.post(
        f"/api/bars/{bar.id}/sales/{voided['id']}/void",
        headers=bar.owner.headers,
        json={"reason": "test"},
    )
    staff = await api.member(bar, "staff")
    stats = (await api.http.get(f"/api/bars/{bar.id}/stats/today", headers=staff.headers)).json()
    assert stats["sales_count"] == 2 and stats["revenue"] == 5 * 800 + 500
    assert stats["business_date"] == voided["business_date"]
    assert stats["top_products"][0] == {
        "product_id": flag,
        "name": "Flag",
        "qty": 5,
        "revenue": 4000,
    }
    assert stats["low_stock"] == [
        {"product_id": coke, "name": "Coca", "stock": 2, "low_threshold": 5},
        {"product_id": flag, "name": "Flag", "stock": 5, "low_threshold": 5},
    ]


async def test_seq_moves_by_one_per_stock_transaction_only(api: Api) -> None:
    bar: Bar = await api.bar()
    flag = await api.product(bar, stock=5)
    assert await api.seq(bar) == 1
    await api.http.patch(
        f"/api/bars/{bar.id}/products/{flag}", headers=bar.owner.headers, json={"price": 1}
    )
    await api.product(bar, "Other")
    await api.sell(bar, {flag: 10})  # refused
    assert await api.seq(bar) == 1
    sale = (await api.sell(bar, {flag: 1})).json()
    assert sale["seq"] == 2 == await api.seq(bar)
