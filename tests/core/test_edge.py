"""Bad input at the HTTP edge (edge.py, errors.py): always a 4xx problem document naming the
field, never a 500, whatever the endpoint (issue 12, items 6, 7, 8, 10, 12, 13)."""

from __future__ import annotations

import json
import uuid

import asyncpg
import pytest

from bartender.errors import to_app_error
from tests.core.test_accounts import problem
from tests.support import PASSWORD, Api

NUL = "a\u0000b"


def fields(r) -> list[str]:
    return [e["field"] for e in problem(r, 400, "invalid_request")["errors"]]


async def test_nul_in_any_string_is_400_naming_the_field(api: Api) -> None:
    bar = await api.bar()
    owner = bar.owner.headers
    product = await api.product(bar, stock=5)
    signup = {"email": f"x{NUL}@b.co", "password": PASSWORD, "name": "A"}
    cases = [
        ("/api/auth/signup", signup, None, "email"),
        ("/api/auth/signup", signup | {"email": "ok@b.co", "name": NUL}, None, "name"),
        ("/api/auth/login", {"email": NUL, "password": PASSWORD}, None, "email"),
        (
            f"/api/bars/{bar.id}/products",
            {"name": NUL, "category": "c", "price": 1, "low_threshold": 0, "par_level": 0},
            owner,
            "name",
        ),
        (
            f"/api/bars/{bar.id}/deliveries",
            {
                "id": str(uuid.uuid4()),
                "items": [{"product_id": product, "qty": 1}],
                "reference": NUL,
            },
            owner,
            "reference",
        ),
        (f"/api/bars/{bar.id}/sales/{uuid.uuid4()}/void", {"reason": NUL}, owner, "reason"),
        (f"/api/bars/{bar.id}/staff", {"email": NUL, "role": "staff"}, owner, "email"),
        (
            "/api/push/subscriptions",
            {
                "endpoint": f"https://push.example/{NUL}",
                "keys": {"p256dh": "x", "auth": "y"},
                "bar_ids": [bar.id],
            },
            owner,
            "endpoint",
        ),
    ]
    for path, body, headers, field in cases:
        r = await api.http.post(path, json=body, headers=headers)
        assert fields(r) == [field], (path, r.text)


async def test_json_nested_1000_levels_is_400(api: Api) -> None:
    bar = await api.bar()
    deep = b'{"id":"' + str(uuid.uuid4()).encode() + b'","x":' + b"[" * 1000 + b"]" * 1000 + b"}"
    for path, headers in (
        ("/api/auth/login", {}),
        (f"/api/bars/{bar.id}/sales", bar.owner.headers),
    ):
        r = await api.http.post(
            path, content=deep, headers=headers | {"content-type": "application/json"}
        )
        problem(r, 400, "invalid_request")


async def test_integer_query_parameter_past_bigint_is_400_naming_it(api: Api) -> None:
    bar = await api.bar()
    h = bar.owner.headers
    for path, name in (
        (f"/api/bars/{bar.id}/movements?after_seq=9223372036854775808", "after_seq"),
        (f"/api/bars/{bar.id}/stock?since=99999999999999999999999", "since"),
        (f"/api/bars/{bar.id}/alerts?limit=-9223372036854775809", "limit"),
    ):
        assert fields(await api.http.get(path, headers=h)) == [name], path
    # the largest bigint itself is a valid (if empty) cursor
    r = await api.http.get(f"/api/bars/{bar.id}/movements?after_seq=9223372036854775807", headers=h)
    assert r.status_code == 200, r.text


async def test_a_5000_digit_if_none_match_does_not_match(api: Api) -> None:
    bar = await api.bar()
    r = await api.http.get(
        f"/api/bars/{bar.id}/stock",
        headers=bar.owner.headers | {"If-None-Match": '"' + "9" * 5000 + '"'},
    )
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "path, body, field",
    [
        (
            "products",
            {"name": "Flag", "category": "c", "price": "500", "low_threshold": 0, "par_level": 0},
            "price",
        ),
        ("sales", {"id": "SALE", "items": [{"product_id": "PRODUCT", "qty": "1"}]}, "items[0].qty"),
        ("sales", {"id": "SALE", "items": [{"product_id": "PRODUCT", "qty": 1.0}]}, "items[0].qty"),
        (
            "sales",
            {"id": "SALE", "items": [{"product_id": "PRODUCT", "qty": True}]},
            "items[0].qty",
        ),
    ],
)
async def test_integers_decode_strictly(api: Api, path: str, body: dict, field: str) -> None:
    bar = await api.bar()
    product = await api.product(bar, stock=5)
    raw = json.dumps(body).replace("SALE", str(uuid.uuid4())).replace("PRODUCT", product)
    r = await api.http.post(
        f"/api/bars/{bar.id}/{path}",
        content=raw.encode(),
        headers=bar.owner.headers | {"content-type": "application/json"},
    )
    assert fields(r) == [field]
    assert await api.stock(bar) == {product: 5}  # nothing applied


async def test_json_bodies_need_the_json_content_type(api: Api) -> None:
    user = await api.user()
    body = b'{"email": "%s", "password": "%s"}' % (user.email.encode(), PASSWORD.encode())
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {"content-type": content_type} if content_type else {}
        r = await api.http.post("/api/auth/login", content=body, headers=headers)
        problem(r, 415, "unsupported_media_type")
    r = await api.http.post(
        "/api/auth/login",
        content=body,
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert r.status_code == 200, r.text


def test_a_connection_lost_mid_query_is_503_unavailable() -> None:
    # asyncpg raises these when PostgreSQL dies under a query (kill -9): 500 before
    for exc in (
        asyncpg.InternalClientError("cannot switch to state 12"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        ConnectionResetError(),
    ):
        err = to_app_error(exc)
        assert (err.status, err.slug) == (503, "unavailable"), exc
