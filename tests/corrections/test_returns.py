"""Returns per sale line (issue 16): direct (manager) and requested (staff) then approved or
rejected, at most what is left to return, refunds at the line's price, restock or waste, the
ledger, idempotency, and the races: a return against a void, two returns for the last unit."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from tests.core.test_accounts import problem
from tests.corrections.helpers import post
from tests.support import Api, Bar, User


async def sold(api: Api, bar: Bar, items: dict[str, int]) -> str:
    r = await api.sell(bar, items)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def lines(*items: tuple[str, int, str]) -> list[dict[str, Any]]:
    return [{"product_id": p, "qty": q, "disposition": d} for p, q, d in items]


async def give_back(
    api: Api, bar: Bar, sale: str, items: list[dict[str, Any]], user: User | None = None, **kw: Any
) -> httpx.Response:
    body = {"reason": "client pas content", "items": items}
    return await post(api.http, bar, f"sales/{sale}/returns", body, user=user, **kw)


async def test_a_manager_returns_directly_restock_and_waste(api: Api) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=10, price=1000)
    coke = await api.product(bar, "Coca", stock=10, price=500)
    sale = await sold(api, bar, {flag: 3, coke: 2})
    seq = await api.seq(bar)
    r = await give_back(
        api, bar, sale, lines((flag, 1, "restock"), (flag, 1, "waste"), (coke, 2, "restock"))
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "approved" and body["sale_id"] == sale
    assert (body["refund"], body["currency"]) == (3000, "XOF")
    assert body["seq"] == seq + 1 and body["decided_by"] == bar.owner.id
    assert sorted(body["stock"], key=lambda c: c["stock"]) == sorted(
        [{"product_id": flag, "stock": 8}, {"product_id": coke, "stock": 10}],
        key=lambda c: c["stock"],
    )
    r = await api.http.get(
        f"/api/bars/{bar.id}/movements", params={"after_seq": seq}, headers=bar.owner.headers
    )
    assert {(m["product_id"], m["kind"], m["delta"]) for m in r.json()["movements"]} == {
        (flag, "return", 1),
        (coke, "return", 2),
    }
    # one Flag is left to return; the Coca are all back
    r = await give_back(api, bar, sale, lines((coke, 1, "restock")))
    assert problem(r, 409, "not_returnable")["returnable"] == 0
    r = await give_back(api, bar, sale, lines((flag, 2, "waste")))
    assert problem(r, 409, "not_returnable")["returnable"] == 1
    r = await give_back(api, bar, sale, lines((flag, 1, "waste")))
    assert r.status_code == 201 and r.json()["seq"] is None  # only a refund: no stock moves
    assert await api.seq(bar) == seq + 1
    # a void now restocks nothing more: everything is back or lost
    r = await api.http.post(
        f"/api/bars/{bar.id}/sales/{sale}/void", headers=bar.owner.headers, json={"reason": "x"}
    )
    assert r.status_code == 200, r.text
    assert await api.stock(bar) == {flag: 8, coke: 10}
    assert await api.seq(bar) == seq + 1


async def test_staff_request_is_pending_until_a_manager_approves(api: Api) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=10, price=1000)
    staff = await api.member(bar, "staff")
    sale = await sold(api, bar, {flag: 2})
    seq = await api.seq(bar)
    r = await give_back(api, bar, sale, lines((flag, 2, "restock")), user=staff)
    assert r.status_code == 201, r.text
    pending = r.json()
    assert (pending["status"], pending["refund"], pending["stock"]) == ("pending", 2000, [])
    assert await api.seq(bar) == seq and (await api.stock(bar))[flag] == 8
    problem(
        await api.http.get(f"/api/bars/{bar.id}/returns", headers=staff.headers), 403, "forbidden"
    )
    r = await api.http.get(
        f"/api/bars/{bar.id}/returns", params={"status": "pending"}, headers=bar.owner.headers
    )
    assert [x["id"] for x in r.json()["returns"]] == [pending["id"]]
    decide = f"/api/bars/{bar.id}/returns/{pending['id']}"
    problem(
        await api.http.post(f"{decide}/approve", headers=staff.headers, json={}), 403, "forbidden"
    )
    first = await api.http.post(f"{decide}/approve", headers=bar.owner.headers, json={"note": "ok"})
    assert first.status_code == 200, first.text
    assert (first.json()["status"], first.json()["seq"]) == ("approved", seq + 1)
    assert first.json()["decision_note"] == "ok"
    assert (await api.stock(bar))[flag] == 10
    again = await api.http.post(f"{decide}/approve", headers=bar.owner.headers, json={"note": "ok"})
    assert again.status_code == 200 and again.content == first.content
    refused = await api.http.post(f"{decide}/reject", headers=bar.owner.headers, json={})
    assert problem(refused, 409, "not_returnable")["return_status"] == "approved"
    r = await api.http.get(
        f"/api/bars/{bar.id}/returns", params={"status": "pending"}, headers=bar.owner.headers
    )
    assert r.json()["returns"] == []
    # the request's own id replays the pending body it answered
    replay = await give_back(
        api, bar, sale, lines((flag, 2, "restock")), user=staff, op_id=pending["id"]
    )
    assert replay.status_code == 200 and replay.json() == pending


async def test_rejected_request_moves_nothing_and_approval_rechecks(api: Api) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=10)
    staff = await api.member(bar, "staff")
    sale = await sold(api, bar, {flag: 1})
    one = (await give_back(api, bar, sale, lines((flag, 1, "restock")), user=staff)).json()
    two = (await give_back(api, bar, sale, lines((flag, 1, "restock")), user=staff)).json()
    r = await api.http.post(
        f"/api/bars/{bar.id}/returns/{one['id']}/reject", headers=bar.owner.headers, json={}
    )
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    r = await api.http.post(
        f"/api/bars/{bar.id}/returns/{two['id']}/approve", headers=bar.owner.headers, json={}
    )
    assert r.status_code == 200, r.text
    r = await api.http.post(
        f"/api/bars/{bar.id}/returns/{one['id']}/approve", headers=bar.owner.headers, json={}
    )
    problem(r, 409, "not_returnable")
    assert (await api.stock(bar))[flag] == 10


async def test_bad_returns_are_4xx_and_keep_their_id(api: Api) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=10)
    coke = await api.product(bar, "Coca", stock=10)
    sale = await sold(api, bar, {flag: 1})
    op = str(uuid.uuid4())
    r = await give_back(api, bar, sale, lines((coke, 1, "restock")), op_id=op)
    assert problem(r, 400, "invalid_request")["errors"][0]["field"] == "items[0].product_id"
    r = await give_back(api, bar, sale, lines((flag, 1, "lost")))
    problem(r, 400, "invalid_request")
    r = await give_back(api, bar, str(uuid.uuid4()), lines((flag, 1, "restock")))
    problem(r, 404, "not_found")
    outsider = await api.user()
    problem(
        await give_back(api, bar, sale, lines((flag, 1, "restock")), user=outsider),
        404,
        "not_found",
    )
    r = await give_back(api, bar, sale, lines((flag, 1, "restock")), op_id=op)
    assert r.status_code == 201, r.text
    r = await give_back(api, bar, sale, lines((flag, 1, "waste")), op_id=op)
    problem(r, 409, "idempotency_conflict")
    r = await api.http.post(
        f"/api/bars/{bar.id}/sales/{sale}/void", headers=bar.owner.headers, json={"reason": "x"}
    )
    assert r.status_code == 200
    assert (await api.stock(bar))[flag] == 10


async def race(api: Api, requests: list[tuple[str, str, dict[str, Any]]], user: User) -> list[int]:
    """Send the requests at the same moment over their own connections; their statuses."""
    clients = [httpx.AsyncClient(base_url=api.server.base_url, timeout=30) for _ in requests]
    try:
        await asyncio.gather(*(c.get("/api/health") for c in clients))
        start = asyncio.Event()

        async def one(client: httpx.AsyncClient, path: str, json: dict[str, Any]) -> int:
            await start.wait()
            return (await client.post(path, headers=user.headers, json=json)).status_code

        tasks = [
            asyncio.create_task(one(c, p, j))
            for c, (_, p, j) in zip(clients, requests, strict=True)
        ]
        start.set()
        return list(await asyncio.gather(*tasks))
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


async def test_a_return_racing_a_void_ends_with_the_stock_right(api: Api) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=30)
    for _ in range(6):
        sale = await sold(api, bar, {flag: 3})
        ret = {"id": str(uuid.uuid4()), "reason": "r", "items": lines((flag, 1, "restock"))}
        statuses = await race(
            api,
            [
                ("return", f"/api/bars/{bar.id}/sales/{sale}/returns", ret),
                ("void", f"/api/bars/{bar.id}/sales/{sale}/void", {"reason": "oops"}),
            ],
            bar.owner,
        )
        assert statuses in ([201, 200], [409, 200]), statuses
        assert (await api.stock(bar))[flag] == 30  # 3 back, whichever came first
    r = await api.http.get(f"/api/bars/{bar.id}/movements", headers=bar.owner.headers)
    assert sum(m["delta"] for m in r.json()["movements"]) == 30


async def test_two_returns_racing_for_the_last_unit(api: Api) -> None:
    bar = await api.bar()
    flag = await api.product(bar, "Flag", stock=10, price=1000)
    for _ in range(4):
        sale = await sold(api, bar, {flag: 1})
        path = f"/api/bars/{bar.id}/sales/{sale}/returns"
        bodies = [
            {"id": str(uuid.uuid4()), "reason": "r", "items": lines((flag, 1, "restock"))}
            for _ in range(2)
        ]
        statuses = await race(api, [("r", path, b) for b in bodies], bar.owner)
        assert sorted(statuses) == [201, 409], statuses
        assert (await api.stock(bar))[flag] == 10
    r = await api.http.get(f"/api/bars/{bar.id}/returns", headers=bar.owner.headers)
    assert [x["refund"] for x in r.json()["returns"]] == [1000] * 4
