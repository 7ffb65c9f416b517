"""Property: whatever JSON a client sends to a write endpoint, the answer is never a 500,
every refusal is a problem document, and a refused request changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import PASSWORD, ServeProcess, clone_template_sync

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**64), 2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["a\u0000b", "\u0000", "500", "1", "Europe/Paris", "posixrules"])
    | st.uuids().map(str),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "items",
                    "product_id",
                    "qty",
                    "counts",
                    "counted",
                    "reason",
                    "occurred_at",
                    "supplier",
                    "reference",
                    "name",
                    "price",
                    "cost",
                    "active",
                    "role",
                    "email",
                    "timezone",
                    "password",
                    "url",
                    "endpoint",
                ]
            )
            | st.text(max_size=8),
            children,
            max_size=5,
        )
    ),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def live(pg_admin_url: str, template_url: str) -> Iterator[dict]:
    """A separate server process on a fresh database, with a bar, a product and a manager."""
    url = clone_template_sync(pg_admin_url)
    env = {"DATABASE_URL": url, "BARTENDER_LOGIN_MAX_PER_ADDRESS": "100000"}
    with ServeProcess(env) as server, httpx.Client(base_url=server.base_url, timeout=30) as http:
        base = server.base_url
        email = f"fuzz-{uuid.uuid4().hex[:6]}@example.com"
        http.post("/api/auth/signup", json={"email": email, "password": PASSWORD, "name": "F"})
        token = http.post("/api/auth/login", json={"email": email, "password": PASSWORD}).json()[
            "access_token"
        ]
        headers = {"Authorization": f"Bearer {token}"}
        bar = http.post(
            "/api/bars",
            headers=headers,
            json={"name": "Fuzz", "currency": "EUR", "timezone": "Europe/Paris"},
        ).json()["id"]
        product = http.post(
            f"/api/bars/{bar}/products",
            headers=headers,
            json={
                "name": "Flag",
                "category": "B",
                "price": 250,
                "low_threshold": 1,
                "par_level": 5,
            },
        ).json()["id"]
        sale = str(uuid.uuid4())
        http.post(
            f"/api/bars/{bar}/deliveries",
            headers=headers,
            json={"id": str(uuid.uuid4()), "items": [{"product_id": product, "qty": 100}]},
        )
        http.post(
            f"/api/bars/{bar}/sales",
            headers=headers,
            json={"id": sale, "items": [{"product_id": product, "qty": 1}]},
        )
        yield {"base": base, "headers": headers, "bar": bar, "product": product, "sale": sale}


WRITE_ENDPOINTS = [
    ("POST", "/api/auth/signup"),
    ("POST", "/api/auth/login"),
    ("POST", "/api/auth/refresh"),
    ("POST", "/api/bars"),
    ("PATCH", "/api/bars/{bar}"),
    ("POST", "/api/bars/{bar}/staff"),
    ("POST", "/api/bars/{bar}/products"),
    ("PATCH", "/api/bars/{bar}/products/{product}"),
    ("POST", "/api/bars/{bar}/sales"),
    ("POST", "/api/bars/{bar}/deliveries"),
    ("POST", "/api/bars/{bar}/stock-counts"),
    ("POST", "/api/bars/{bar}/sales/{sale}/void"),
    ("POST", "/api/bars/{bar}/webhooks"),
    ("POST", "/api/push/subscriptions"),
    ("POST", "/api/auth/logout"),
]
READ_ENDPOINTS = [
    "/api/bars/{bar}/movements",
    "/api/bars/{bar}/sales",
    "/api/bars/{bar}/stock",
    "/api/bars/{bar}/alerts",
    "/api/bars/{bar}/forecast",
]
query_values = (
    st.integers(-(2**70), 2**70).map(str)
    | st.text(max_size=12)
    | st.sampled_from(["9223372036854775807", "9223372036854775808", "-0", "1e3", " 5"])
)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(endpoint=st.sampled_from(WRITE_ENDPOINTS), body=json_values)
def test_no_body_makes_a_500(live: dict, endpoint: tuple[str, str], body: object) -> None:
    method, template = endpoint
    path = template.format(bar=live["bar"], product=live["product"], sale=live["sale"])
    with httpx.Client(base_url=live["base"], timeout=30) as http:
        r = http.request(method, path, json=body, headers=live["headers"])
        assert r.status_code < 500, (r.status_code, r.text)
        if r.status_code >= 400:
            assert r.headers["content-type"].startswith("application/problem+json")
            problem = r.json()
            assert {"type", "title", "status", "detail"} <= set(problem)
            assert problem["status"] == r.status_code and "/" not in problem["type"]
        stock = http.get(f"/api/bars/{live['bar']}/products", headers=live["headers"]).json()
        ledger = http.get(
            f"/api/bars/{live['bar']}/movements", headers=live["headers"], params={"limit": 1000}
        ).json()["movements"]
        for product in stock["products"]:
            assert product["stock"] == sum(
                m["delta"] for m in ledger if m["product_id"] == product["id"]
            )


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    path=st.sampled_from(READ_ENDPOINTS),
    params=st.dictionaries(
        st.sampled_from(["after_seq", "since", "limit", "before", "product_id", "horizon_days"]),
        query_values,
        max_size=3,
    ),
    # header values the HTTP server itself accepts (control characters never reach the app)
    etag=st.none()
    | st.integers(-(2**70), 2**70).map(lambda v: f'"{v}"')
    | st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=12)
    | st.just('"' + "9" * 5000 + '"'),
)
def test_no_query_makes_a_500(live: dict, path: str, params: dict, etag: str | None) -> None:
    headers = live["headers"] | ({"If-None-Match": etag} if etag else {})
    with httpx.Client(base_url=live["base"], timeout=30) as http:
        r = http.get(path.format(bar=live["bar"]), params=params, headers=headers)
        assert r.status_code < 500, (path, params, etag, r.status_code, r.text)
        if r.status_code >= 400:
            problem = r.headers["content-type"].startswith("application/problem+json")
            assert problem, (path, params, etag, r.status_code, r.headers, r.text)
