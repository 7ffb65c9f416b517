"""HTTP edges: body limit, unknown routes and methods, OpenAPI, every failure a problem document."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import asyncpg

from tests.core.test_accounts import problem
from tests.support import Api


async def test_body_over_the_limit_is_413(api: Api) -> None:
    r = await api.http.post(
        "/api/auth/signup",
        content=b'{"name":"' + b"x" * 70_000 + b'"}',
        headers={"content-type": "application/json"},
    )
    problem(r, 413, "payload_too_large")


async def test_unknown_route_and_method(api: Api) -> None:
    problem(await api.http.get("/api/nope"), 404, "not_found")
    problem(await api.http.delete("/api/health"), 405, "method_not_allowed")
    bar = await api.bar()
    # a malformed id in the path is simply not a route
    problem(
        await api.http.get(f"/api/bars/{bar.id[:-1]}", headers=bar.owner.headers), 404, "not_found"
    )


async def test_openapi_is_served(api: Api) -> None:
    r = await api.http.get("/schema/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert "/api/bars/{bar_id}/sales" in paths and "/api/auth/login" in paths


async def test_wrong_content_is_a_problem(api: Api) -> None:
    bar = await api.bar()
    for content in (b"[]", b"null", b'"x"', b"\xff\xfe"):
        r = await api.http.post(
            f"/api/bars/{bar.id}/sales",
            content=content,
            headers=bar.owner.headers | {"content-type": "application/json"},
        )
        problem(r, 400, "invalid_request")
    r = await api.http.post(
        f"/api/bars/{bar.id}/sales/{uuid.uuid4()}/void",
        headers=bar.owner.headers,
        json={"reason": ""},
    )
    problem(r, 400, "invalid_request")


async def test_database_gone_is_503_unavailable_not_500(
    api: Api, pg_admin_url: str, database_url: str
) -> None:
    bar = await api.bar()
    assert (await api.http.get("/api/ready")).status_code == 200
    name = urlsplit(database_url).path.lstrip("/")
    admin = await asyncpg.connect(pg_admin_url)
    try:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()
    ready = await api.http.get("/api/ready")
    assert ready.status_code == 503 and ready.json()["checks"]["postgres"].startswith("error")
    for _ in range(3):  # dead pooled connections first, then refused new ones
        r = await api.http.get(f"/api/bars/{bar.id}/products", headers=bar.owner.headers)
        problem(r, 503, "unavailable")
        assert "retry-after" in r.headers
