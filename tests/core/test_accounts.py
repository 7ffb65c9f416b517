"""Contract: Accounts — signup, login, refresh rotation and reuse detection, throttling."""

from __future__ import annotations

import asyncio
import time

import jwt
import pytest

from bartender.accounts.throttle import client_address
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
    # replaying the spent token after the grace: 401, and the whole login (family) is revoked
    await api.server.rt.pool.execute(
        "UPDATE refresh_tokens SET used_at = used_at - interval '61 seconds' WHERE user_id = $1",
        user.id,
    )
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


async def test_a_retried_refresh_within_the_grace_gets_the_same_pair(api: Api) -> None:
    """A lost answer (flaky Wi-Fi) or two tabs refreshing at once must not log the phone out."""
    user = await api.user()

    async def refresh(token: str):
        return await api.http.post("/api/auth/refresh", json={"refresh_token": token})

    first, second = [await refresh(user.refresh_token) for _ in range(2)]
    assert first.status_code == second.status_code == 200, second.text
    pair = ("access_token", "refresh_token")
    assert [first.json()[k] for k in pair] == [second.json()[k] for k in pair]
    # both at once: one spends it, the other gets the same successor
    successor = first.json()["refresh_token"]
    racing = await asyncio.gather(refresh(successor), refresh(successor))
    assert [r.status_code for r in racing] == [200, 200]
    assert len({r.json()["refresh_token"] for r in racing}) == 1
    assert racing[0].json()["refresh_token"] != successor
    # the successor works as usual, and the login goes on
    after = await refresh(racing[0].json()["refresh_token"])
    assert after.status_code == 200, after.text
    ok = await api.http.get(
        "/api/bars", headers={"Authorization": f"Bearer {after.json()['access_token']}"}
    )
    assert ok.status_code == 200
    # after a logout the grace is over: the spent token is refused
    latest = after.json()["refresh_token"]
    r = await api.http.post("/api/auth/logout", json={"refresh_token": latest})
    assert r.status_code == 204
    problem(await refresh(user.refresh_token), 401, "unauthenticated")


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

    async def login(self, api: Api, email: str, password: str, address: str):
        # the test client is on loopback, a trusted proxy by default: it names the client
        return await api.http.post(
            "/api/auth/login",
            json={"email": email, "password": password},
            headers={"X-Forwarded-For": f"198.51.100.99, {address}"},
        )

    async def test_failures_per_account_and_address_are_throttled(self, api: Api) -> None:
        user = await api.user()
        for _ in range(3):
            r = await self.login(api, user.email, "wrong-wrong", "203.0.113.1")
            problem(r, 401, "invalid_credentials")
        blocked = await self.login(api, user.email, PASSWORD, "203.0.113.1")
        problem(blocked, 429, "too_many_attempts")
        assert 0 < int(blocked.headers["retry-after"]) <= 900
        # the attacker slows down only itself: the owner's phone elsewhere logs in, at once
        r = await self.login(api, user.email, PASSWORD, "192.0.2.50")
        assert r.status_code == 200, r.text
        # and another account from the attacker's address is not locked either
        other = await api.user()
        r = await self.login(api, other.email, PASSWORD, "203.0.113.1")
        assert r.status_code == 200, r.text

    async def test_failures_per_address_are_throttled(self, api: Api) -> None:
        user = await api.user()
        for i in range(6):
            await self.login(api, f"nobody{i}@example.com", "wrong-wrong", "203.0.113.2")
        blocked = await self.login(api, user.email, PASSWORD, "203.0.113.2")
        problem(blocked, 429, "too_many_attempts")
        r = await self.login(api, user.email, PASSWORD, "203.0.113.3")
        assert r.status_code == 200, r.text

    async def test_a_success_does_not_reset_the_address_budget(self, api: Api) -> None:
        attacker = await api.user()
        for i in range(6):
            await self.login(api, f"nobody{i}@example.com", "wrong-wrong", "203.0.113.4")
            if i == 3:  # the attacker's own account, between guesses
                assert (await self.login(api, attacker.email, PASSWORD, "203.0.113.4")).is_success
        problem(
            await self.login(api, attacker.email, PASSWORD, "203.0.113.4"), 429, "too_many_attempts"
        )

    async def test_ended_windows_are_pruned(self, api: Api) -> None:
        pool, throttle = api.server.rt.pool, api.server.rt.throttle
        await pool.execute(
            "INSERT INTO login_failures VALUES ('ip:192.0.2.9', now() - interval '1 day', 9)"
        )
        throttle.prune_every = 1
        await self.login(api, "nobody@example.com", "wrong-wrong", "203.0.113.5")
        keys = {r["key"] for r in await pool.fetch("SELECT key FROM login_failures")}
        assert keys == {"email:nobody@example.com|ip:203.0.113.5", "ip:203.0.113.5"}


class TestThrottleBehindUntrustedPeer:
    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        return make_settings(
            database_url,
            login_max_failures_per_email=3,
            login_max_failures_per_address=6,
            trusted_proxies="",  # no proxy trusted: X-Forwarded-For is the client's own claim
        )

    async def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(self, api: Api) -> None:
        user = await api.user()
        for i in range(3):  # a forged, different address each time
            r = await api.http.post(
                "/api/auth/login",
                json={"email": user.email, "password": "wrong-wrong"},
                headers={"X-Forwarded-For": f"203.0.113.{10 + i}"},
            )
            problem(r, 401, "invalid_credentials")
        r = await api.http.post(
            "/api/auth/login",
            json={"email": user.email, "password": PASSWORD},
            headers={"X-Forwarded-For": "192.0.2.1"},
        )
        problem(r, 429, "too_many_attempts")


async def test_passwords_are_argon2_hashed(api: Api) -> None:
    user = await api.user()
    stored = await api.server.rt.pool.fetchval(
        "SELECT password_hash FROM users WHERE id = $1", user.id
    )
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


@pytest.mark.parametrize(
    "peer, forwarded, trusted, expected",
    [
        ("127.0.0.1", ["203.0.113.7"], "127.0.0.1/32,::1/128", "203.0.113.7"),
        # hops left of the first untrusted one are the client's own claims
        ("127.0.0.1", ["6.6.6.6, 203.0.113.7"], "127.0.0.1/32", "203.0.113.7"),
        # a chain of trusted proxies is walked through
        ("::1", ["203.0.113.7, 10.0.0.2", "10.0.0.3"], "::1, 10.0.0.0/8", "203.0.113.7"),
        ("198.51.100.1", ["203.0.113.7"], "127.0.0.1/32", "198.51.100.1"),
        ("127.0.0.1", ["203.0.113.7"], "", "127.0.0.1"),
        ("127.0.0.1", [], "127.0.0.1/32", "127.0.0.1"),
        ("127.0.0.1", ["garbage"], "127.0.0.1/32", "garbage"),
    ],
)
def test_client_address(peer: str, forwarded: list[str], trusted: str, expected: str) -> None:
    assert client_address(peer, forwarded, trusted) == expected
