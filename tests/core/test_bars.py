"""Contract: bars, settings, staff and roles; non-members see 404."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from tests.core.test_accounts import problem
from tests.support import PASSWORD, Api, eventually


async def test_create_bar_defaults_and_shape(api: Api) -> None:
    owner = await api.user()
    r = await api.http.post(
        "/api/bars",
        headers=owner.headers,
        json={"name": "Le Maquis", "currency": "EUR", "timezone": "Europe/Paris"},
    )
    assert r.status_code == 201
    bar = r.json()
    assert {
        k: bar[k]
        for k in (
            "name",
            "currency",
            "timezone",
            "day_starts_at",
            "lead_time_days",
            "service_level",
            "role",
        )
    } == {
        "name": "Le Maquis",
        "currency": "EUR",
        "timezone": "Europe/Paris",
        "day_starts_at": "06:00",
        "lead_time_days": 2,
        "service_level": 0.95,
        "role": "owner",
    }
    uuid.UUID(bar["id"])
    listed = (await api.http.get("/api/bars", headers=owner.headers)).json()["bars"]
    assert [b["id"] for b in listed] == [bar["id"]]
    one = await api.http.get(f"/api/bars/{bar['id']}", headers=owner.headers)
    assert one.json() == bar


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "X", "currency": "ZZZ", "timezone": "Africa/Abidjan"}, "currency"),
        ({"name": "X", "currency": "xof", "timezone": "Africa/Abidjan"}, "currency"),
        ({"name": "X", "currency": "XOF", "timezone": "Mars/Olympus"}, "timezone"),
        (
            {
                "name": "X",
                "currency": "XOF",
                "timezone": "Africa/Abidjan",
                "day_starts_at": "25:00",
            },
            "day_starts_at",
        ),
        ({"name": "", "currency": "XOF", "timezone": "Africa/Abidjan"}, "name"),
    ],
)
async def test_create_bar_validation(api: Api, body: dict, field: str) -> None:
    owner = await api.user()
    r = await api.http.post("/api/bars", headers=owner.headers, json=body)
    assert [e["field"] for e in problem(r, 400, "invalid_request")["errors"]] == [field]


async def test_non_member_gets_404_everywhere(api: Api) -> None:
    bar = await api.bar()
    product = await api.product(bar, stock=5)
    stranger = await api.user()
    h = stranger.headers
    for method, path in [
        ("GET", f"/api/bars/{bar.id}"),
        ("GET", f"/api/bars/{bar.id}/products"),
        ("GET", f"/api/bars/{bar.id}/stock"),
        ("GET", f"/api/bars/{bar.id}/sales"),
        ("GET", f"/api/bars/{bar.id}/movements"),
        ("GET", f"/api/bars/{bar.id}/stats/today"),
        ("GET", f"/api/bars/{bar.id}/staff"),
        ("GET", f"/api/bars/{uuid.uuid4()}"),
    ]:
        problem(await api.http.request(method, path, headers=h), 404, "not_found")
    r = await api.sell(bar, {product: 1}, user=stranger)
    problem(r, 404, "not_found")
    assert (await api.stock(bar))[product] == 5


async def test_patch_bar_is_owner_only_and_currency_is_fixed(api: Api) -> None:
    bar = await api.bar()
    manager = await api.member(bar, "manager")
    r = await api.http.patch(
        f"/api/bars/{bar.id}",
        headers=bar.owner.headers,
        json={
            "name": "Chez Fatou",
            "day_starts_at": "05:30",
            "lead_time_days": 7,
            "service_level": 0.99,
            "timezone": "Africa/Dakar",
        },
    )
    assert r.status_code == 200, r.text
    assert {
        k: r.json()[k]
        for k in (
            "name",
            "day_starts_at",
            "lead_time_days",
            "service_level",
            "timezone",
            "currency",
        )
    } == {
        "name": "Chez Fatou",
        "day_starts_at": "05:30",
        "lead_time_days": 7,
        "service_level": 0.99,
        "timezone": "Africa/Dakar",
        "currency": "XOF",
    }
    problem(
        await api.http.patch(
            f"/api/bars/{bar.id}", headers=bar.owner.headers, json={"currency": "EUR"}
        ),
        400,
        "invalid_request",
    )
    for bad in (
        {"lead_time_days": 61},
        {"service_level": 0.3},
        {"service_level": 1.0},
        {"day_starts_at": "6h"},
    ):
        problem(
            await api.http.patch(f"/api/bars/{bar.id}", headers=bar.owner.headers, json=bad),
            400,
            "invalid_request",
        )
    problem(
        await api.http.patch(f"/api/bars/{bar.id}", headers=manager.headers, json={"name": "Mine"}),
        403,
        "forbidden",
    )


async def test_staff_management_rules(api: Api) -> None:
    bar = await api.bar()
    manager = await api.member(bar, "manager")
    staff = await api.member(bar, "staff")
    url = f"/api/bars/{bar.id}/staff"

    members = (await api.http.get(url, headers=manager.headers)).json()["members"]
    assert [m["role"] for m in members] == ["owner", "manager", "staff"]
    assert set(members[0]) == {"user_id", "email", "name", "role", "bar_id"}
    problem(await api.http.get(url, headers=staff.headers), 403, "forbidden")

    # a manager adds staff, but not managers
    r = await api.http.post(
        url,
        headers=manager.headers,
        json={"email": "new@example.com", "name": "New", "password": PASSWORD, "role": "staff"},
    )
    assert r.status_code == 201 and r.json()["role"] == "staff"
    new_id = r.json()["user_id"]
    problem(
        await api.http.post(
            url,
            headers=manager.headers,
            json={"email": "m2@example.com", "name": "M", "password": PASSWORD, "role": "manager"},
        ),
        403,
        "forbidden",
    )
    problem(
        await api.http.post(
            url,
            headers=bar.owner.headers,
            json={"email": "new@example.com", "name": "New", "password": PASSWORD, "role": "staff"},
        ),
        409,
        "already_member",
    )
    problem(
        await api.http.post(
            url, headers=bar.owner.headers, json={"email": "x@example.com", "role": "owner"}
        ),
        400,
        "invalid_request",
    )
    # staff cannot manage
    problem(
        await api.http.post(
            url,
            headers=staff.headers,
            json={"email": "y@example.com", "name": "Y", "password": PASSWORD, "role": "staff"},
        ),
        403,
        "forbidden",
    )

    # role changes: managers cannot touch managers or the owner; nobody demotes the owner
    problem(
        await api.http.patch(
            f"{url}/{staff.id}", headers=manager.headers, json={"role": "manager"}
        ),
        403,
        "forbidden",
    )
    problem(
        await api.http.patch(
            f"{url}/{bar.owner.id}", headers=bar.owner.headers, json={"role": "staff"}
        ),
        403,
        "forbidden",
    )
    problem(
        await api.http.delete(f"{url}/{bar.owner.id}", headers=bar.owner.headers), 403, "forbidden"
    )
    problem(await api.http.delete(f"{url}/{manager.id}", headers=manager.headers), 403, "forbidden")
    promoted = await api.http.patch(
        f"{url}/{staff.id}", headers=bar.owner.headers, json={"role": "manager"}
    )
    assert promoted.status_code == 200 and promoted.json()["role"] == "manager"
    problem(
        await api.http.patch(
            f"{url}/{uuid.uuid4()}", headers=bar.owner.headers, json={"role": "staff"}
        ),
        404,
        "not_found",
    )

    # removal takes effect at once (the membership cache is invalidated by NOTIFY)
    assert (await api.http.get(f"/api/bars/{bar.id}", headers=staff.headers)).status_code == 200
    removed = await api.http.delete(f"{url}/{new_id}", headers=manager.headers)
    assert removed.status_code == 204
    gone = await api.http.delete(f"{url}/{staff.id}", headers=bar.owner.headers)
    assert gone.status_code == 204

    async def refused() -> httpx.Response | None:
        r = await api.http.get(f"/api/bars/{bar.id}", headers=staff.headers)
        return r if r.status_code == 404 else None

    problem(await eventually(refused, within=1, what="the removed staff refused"), 404, "not_found")


async def test_existing_account_is_added_without_touching_its_password(api: Api) -> None:
    bar = await api.bar()
    other = await api.user("Already Here")
    r = await api.http.post(
        f"/api/bars/{bar.id}/staff",
        headers=bar.owner.headers,
        json={
            "email": other.email,
            "name": "Ignored",
            "password": "a-new-password",
            "role": "staff",
        },
    )
    assert r.status_code == 201
    assert r.json()["name"] == "Already Here"
    await api.login(other.email, PASSWORD)  # the old password still works
    bad = await api.http.post(
        "/api/auth/login", json={"email": other.email, "password": "a-new-password"}
    )
    problem(bad, 401, "invalid_credentials")


async def test_new_account_needs_name_and_password(api: Api) -> None:
    bar = await api.bar()
    r = await api.http.post(
        f"/api/bars/{bar.id}/staff",
        headers=bar.owner.headers,
        json={"email": "fresh@example.com", "role": "staff"},
    )
    fields = {e["field"] for e in problem(r, 400, "invalid_request")["errors"]}
    assert fields == {"name", "password"}


async def test_time_zones_postgresql_does_not_know_are_400(api: Api) -> None:
    """Python's zoneinfo accepts these; PostgreSQL does not, and every sale then failed."""
    owner = await api.user()
    bar = await api.bar(owner)
    for zone in ("localtime", "right/UTC", "posix/Europe/Paris", "posixrules", "Nowhere/City"):
        body = {"name": "Chez Test", "currency": "XOF", "timezone": zone}
        r = await api.http.post("/api/bars", headers=owner.headers, json=body)
        assert [e["field"] for e in problem(r, 400, "invalid_request")["errors"]] == ["timezone"]
        r = await api.http.patch(
            f"/api/bars/{bar.id}", headers=owner.headers, json={"timezone": zone}
        )
        assert [e["field"] for e in problem(r, 400, "invalid_request")["errors"]] == ["timezone"]
    r = await api.http.patch(
        f"/api/bars/{bar.id}", headers=owner.headers, json={"timezone": "America/Sao_Paulo"}
    )
    assert r.status_code == 200 and r.json()["timezone"] == "America/Sao_Paulo", r.text
    product = await api.product(bar, stock=3)
    assert (await api.sell(bar, {product: 1})).status_code == 201  # the zone works in SQL


async def test_refused_requests_give_their_connection_back(api: Api) -> None:
    """The request's connection (ConnDep) is released however the request ends: 401, 403,
    404 raised by a dependency resolved after it, or a handler's own error."""
    bar = await api.bar()
    staff = await api.member(bar, "staff")
    stranger = await api.user()
    pool = api.server.rt.pool
    for _ in range(pool.get_max_size() + 5):  # more than the pool holds: a leak would hang
        await asyncio.gather(
            api.http.get(f"/api/bars/{bar.id}/staff", headers=staff.headers),  # 403
            api.http.get(f"/api/bars/{bar.id}", headers=stranger.headers),  # 404
            api.http.get("/api/bars", headers={"Authorization": "Bearer nope"}),  # 401
            api.http.patch(
                f"/api/bars/{bar.id}", headers=bar.owner.headers, json={"timezone": "x/y"}
            ),
        )
    await eventually(lambda: pool.in_use() == 0, what="every connection back in the pool")
    r = await api.http.get(f"/api/bars/{bar.id}/staff", headers=bar.owner.headers)
    assert r.status_code == 200, r.text
