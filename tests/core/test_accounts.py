"""Contract: Accounts — signup, login, refresh rotation and reuse detection, throttling."""

from __future__ import annotations

import time

import jwt
import pytest

from bartender.settings import Settings
from tests.support import PASSWORD, Api, make_settings


def problem(r, status: int, slug: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"] == slug and body["status"] == status
    assert body["title"] and "detail" in body
    return body


async def test_signup_returns_user_and_rejects_duplicates(api: Api) -> None:
    r = await api.http.post(
        "/api/auth/signup", json={"email": "Awa@Example.com", "password": PASSWORD, "name": "Awa"}
    )
    assert r.status_code == 201
    user = r.json()["user"]
    assert set(user) == {"id", "email", "name"} and user["name"] == "Awa"
    again = await api.http.post(
        "/api/auth/signup", json={"email": "awa@example.com", "password": PASSWORD, "name": "X"}
    )
    problem(again, 409, "email_taken")


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": "a@b.co", "password": "short", "name": "A"}, "password"),
        ({"email": "not-an-email", "password": PASSWORD, "name": "A"}, "email"),
        ({"email": "a@b.co", "password": PASSWORD}, "name"),
        ({"email": "a@b.co", "password": PASSWORD, "name": "A", "admin": True}, "admin"),
    ],
)
async def test_signup_validation(api: Api, body: dict, field: str) -> None:
    r = await api.http.post("/api/auth/signup", json=body)
    errors = problem(r, 400, "invalid_request")["errors"]
    assert [e["field"] for e in errors] == [field]


async def test_malformed_json_is_a_problem_not_a_500(api: Api) -> None:
    r = await api.http.post(
        "/api/auth/signup", content=b"{nope", headers={"content-type": "application/json"}
    )
    problem(r, 400, "invalid_request")


async def test_login_shape_and_wrong_credentials(api: Api) -> None:
    user = await api.user()
    bar = await api.bar(user)
    r = await api.http.post("/api/auth/login", json={"email": user.email, "password": PASSWORD})
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 900
    assert body["user"]["email"] == user.email
    assert body["memberships"] == [{"bar_id": bar.id, "bar_name": "Chez Test", "role": "owner"}]
    wrong = await api.http.post(
        "/api/auth/login", json={"email": user.email, "password": "nope-nope"}
    )
    unknown = await api.http.post(
        "/api/auth/login", json={"email": "ghost@example.com", "password": "nope-nope"}
    )
    # the same answer whether or not the account exists (each request has its own id)
    a, b = (problem(r, 401, "invalid_credentials") for r in (wrong, unknown))
    assert a.pop("request_id", None) != b.pop("request_id", 0) and a == b


async def test_missing_or_invalid_token_is_401(api: Api) -> None:
    problem(await api.http.get("/api/bars"), 401, "unauthenticated")
    problem(
        await api.http.get("/api/bars", headers={"Authorization": "Bearer x.y.z"}),
        401,
        "unauthenticated",
    )
    problem(
        await api.http.get("/api/bars", headers={"Authorization": "Basic abc"}),
        401,
        "unauthenticated",
    )


async def test_expired_access_token_is_401(api: Api) -> None:
    user = await api.user()
    claims = jwt.decode(user.access_token, options={"verify_signature": False})
    secret = api.server.rt.tokens._secret
    expired = jwt.encode({**claims, "exp": int(time.time()) - 5}, secret, algorithm="HS256")
    r = await api.http.get("/api/bars", headers={"Authorization": f"Bearer {expired}"})
    assert "expired" in problem(r, 401, "unauthenticated")["detail"]


async def test_refresh_rotates_and_reuse_revokes_the_family(api: Api) -> None:
    user = await api.user()
    first = await api.http.post("/api/auth/refresh", json={"refresh_token": user.refresh_token})
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != user.refresh_token
    assert set(rotated) >= {
        "access_token",
        "refresh_token",
        "token_type",
        "expires_in",
        "user",
        "memberships",
    }
    # the new access token works
    ok = await api.http.get(
        "/api/bars", headers={"Authorization": f"Bearer {rotated['access_token']}"}
    )
    assert ok.status_code == 200
    # replaying the spent token: 401, and the whole login (family) is revoked
    reuse = await api.http.post("/api/auth/refresh", json={"refresh_token": user.refresh_token})
    problem(reuse, 401, "unauthenticated")
    after = await api.http.post(
        "/api/auth/refresh", json={"refresh_token": rotated["refresh_token"]}
    )
    problem(after, 401, "unauthenticated")
    # another login of the same user is a different family and still works
    other = await api.login(user.email)
    fresh = await api.http.post("/api/auth/refresh", json={"refresh_token": other.refresh_token})
    assert fresh.status_code == 200


async def test_refresh_token_lives_30_days(api: Api) -> None:
    user = await api.user()
    expires = await api.server.rt.pool.fetchval(
        "SELECT expires_at - created_at FROM refresh_tokens WHERE user_id = $1", user.id
    )
    assert expires.days == 30


class TestThrottle:
    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        return make_settings(
            database_url, login_max_failures_per_email=3, login_max_failures_per_address=6
        )

    async def test_failures_per_email_are_throttled(self, api: Api) -> None:
        user = await api.user()
        for _ in range(3):
            r = await api.http.post(
                "/api/auth/login", json={"email": user.email, "password": "wrong-wrong"}
            )
            problem(r, 401, "invalid_credentials")
        blocked = await api.http.post(
            "/api/auth/login", json={"email": user.email, "password": PASSWORD}
        )
        problem(blocked, 429, "too_many_attempts")
        assert 0 < int(blocked.headers["retry-after"]) <= 900

    async def test_failures_per_address_are_throttled(self, api: Api) -> None:
        user = await api.user()
        for i in range(6):
            await api.http.post(
                "/api/auth/login",
                json={"email": f"nobody{i}@example.com", "password": "wrong-wrong"},
            )
        blocked = await api.http.post(
            "/api/auth/login", json={"email": user.email, "password": PASSWORD}
        )
        problem(blocked, 429, "too_many_attempts")


async def test_passwords_are_argon2_hashed(api: Api) -> None:
    user = await api.user()
    stored = await api.server.rt.pool.fetchval(
        "SELECT password_hash FROM users WHERE id = $1", user.id
    )
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
