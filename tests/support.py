"""Test helpers shared by every domain's tests: a served app and a small API client."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import itertools
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import uvicorn

from bartender.app import create_app
from bartender.runtime import Runtime
from bartender.settings import Settings

PASSWORD = "correct horse battery"
_emails = itertools.count(1)


def database_url_for(admin_url: str, name: str) -> str:
    """The admin URL with another database name (works for socket and TCP URLs)."""
    parts = urlsplit(admin_url)
    return parts._replace(path=f"/{name}").geturl()


def make_settings(database_url: str, **overrides: object) -> Settings:
    """Settings for tests: cheap argon2 (production keeps the default cost)."""
    base = Settings(
        database_url=database_url,
        data_dir=Path(tempfile.gettempdir()),
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        argon2_parallelism=1,
        pool_min_size=1,
        pool_max_size=20,
        forecast_prewarm=False,  # tests start forecast workers on first use
    )
    return dataclasses.replace(base, **overrides)


def clone_template_sync(admin_url: str, template: str = "bt_template") -> str:
    """A fresh database cloned from the migrated template, for module-scoped sync fixtures
    (the session's throw-away server is deleted whole at the end, like every test database)."""
    import asyncpg

    name = f"bt_{uuid.uuid4().hex[:12]}"

    async def create() -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        finally:
            await conn.close()

    asyncio.run(create())
    return database_url_for(admin_url, name)


@dataclass
class RunningServer:
    base_url: str
    port: int
    server: uvicorn.Server
    app: Any

    @property
    def rt(self) -> Runtime:
        return self.app.state.rt  # type: ignore[no-any-return]

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"


@contextlib.asynccontextmanager
async def start_server(settings: Settings) -> AsyncIterator[RunningServer]:
    """Serve create_app(settings) with uvicorn on 127.0.0.1:<free port> in this event loop."""
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        lifespan="on",
        log_level="warning",
        ws_per_message_deflate=False,
        proxy_headers=False,  # as `bartender serve`: the app reads X-Forwarded-For itself
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises the startup error
            raise RuntimeError("server exited during startup")
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield RunningServer(f"http://127.0.0.1:{port}", port, server, app)
    finally:
        server.should_exit = True
        await task


async def eventually(
    check: Callable[[], object | Awaitable[object]],
    within: float = 5.0,
    every: float = 0.02,
    what: str = "condition",
) -> Any:
    """Wait until `check()` (sync or async) returns something truthy and return it; fail with
    `what` after `within` seconds. The one wait loop of the tests: no fixed sleeps."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"{what} not reached within {within} s (last: {result!r})")
        await asyncio.sleep(every)


async def drop_listen(rt: Runtime) -> None:
    """End this process's LISTEN connection from the server side, as a network failure or a
    PostgreSQL restart would, and wait until the process has noticed."""
    import asyncpg

    listener = rt.listener
    await eventually(lambda: listener.live, what="LISTEN connected before the drop")
    conn = await asyncpg.connect(rt.settings.database_url)
    try:
        ended = await conn.fetchval(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = $1) AS t",
            listener.application_name,
        )
    finally:
        await conn.close()
    assert ended == 1, f"no LISTEN backend named {listener.application_name}"
    await eventually(lambda: not listener.live, what="listener noticing the loss")


@dataclass
class User:
    id: str
    email: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


@dataclass
class Bar:
    id: str
    owner: User
    products: dict[str, dict[str, Any]] = field(default_factory=dict)


class Api:
    """Thin helpers over the real HTTP API (asserting the happy path's status)."""

    def __init__(self, http: httpx.AsyncClient, server: RunningServer) -> None:
        self.http = http
        self.server = server

    async def user(self, name: str = "Test User") -> User:
        email = f"user{next(_emails)}-{uuid.uuid4().hex[:6]}@example.com"
        r = await self.http.post(
            "/api/auth/signup", json={"email": email, "password": PASSWORD, "name": name}
        )
        assert r.status_code == 201, r.text
        return await self.login(email)

    async def login(self, email: str, password: str = PASSWORD) -> User:
        r = await self.http.post("/api/auth/login", json={"email": email, "password": password})
        assert r.status_code == 200, r.text
        body = r.json()
        return User(body["user"]["id"], email, body["access_token"], body["refresh_token"])

    async def bar(
        self,
        owner: User | None = None,
        currency: str = "XOF",
        timezone: str = "Africa/Abidjan",
        **extra: Any,
    ) -> Bar:
        owner = owner or await self.user("Owner")
        r = await self.http.post(
            "/api/bars",
            headers=owner.headers,
            json={"name": "Chez Test", "currency": currency, "timezone": timezone, **extra},
        )
        assert r.status_code == 201, r.text
        return Bar(r.json()["id"], owner)

    async def member(self, bar: Bar, role: str) -> User:
        email = f"{role}{next(_emails)}-{uuid.uuid4().hex[:6]}@example.com"
        r = await self.http.post(
            f"/api/bars/{bar.id}/staff",
            headers=bar.owner.headers,
            json={"email": email, "name": role.title(), "password": PASSWORD, "role": role},
        )
        assert r.status_code == 201, r.text
        return await self.login(email)

    async def product(
        self,
        bar: Bar,
        name: str = "Flag",
        stock: int = 0,
        price: int = 1000,
        low_threshold: int = 5,
        par_level: int = 24,
        cost: int | None = 600,
        category: str = "Bières",
    ) -> str:
        r = await self.http.post(
            f"/api/bars/{bar.id}/products",
            headers=bar.owner.headers,
            json={
                "name": name,
                "category": category,
                "price": price,
                "low_threshold": low_threshold,
                "par_level": par_level,
                "cost": cost,
            },
        )
        assert r.status_code == 201, r.text
        product_id: str = r.json()["id"]
        bar.products[name] = r.json()
        if stock:
            await self.deliver(bar, {product_id: stock})
        return product_id

    async def deliver(
        self, bar: Bar, items: dict[str, int], user: User | None = None, **extra: Any
    ) -> httpx.Response:
        r = await self.http.post(
            f"/api/bars/{bar.id}/deliveries",
            headers=(user or bar.owner).headers,
            json={
                "id": str(uuid.uuid4()),
                "items": [{"product_id": p, "qty": q} for p, q in items.items()],
                **extra,
            },
        )
        assert r.status_code == 201, r.text
        return r

    async def sell(
        self,
        bar: Bar,
        items: dict[str, int],
        user: User | None = None,
        sale_id: str | None = None,
        **extra: Any,
    ) -> httpx.Response:
        return await self.http.post(
            f"/api/bars/{bar.id}/sales",
            headers=(user or bar.owner).headers,
            json={
                "id": sale_id or str(uuid.uuid4()),
                "items": [{"product_id": p, "qty": q} for p, q in items.items()],
                **extra,
            },
        )

    async def stock(self, bar: Bar, user: User | None = None) -> dict[str, int]:
        r = await self.http.get(f"/api/bars/{bar.id}/products", headers=(user or bar.owner).headers)
        assert r.status_code == 200, r.text
        return {p["id"]: p["stock"] for p in r.json()["products"]}

    async def seq(self, bar: Bar) -> int:
        r = await self.http.get(f"/api/bars/{bar.id}/products", headers=bar.owner.headers)
        return int(r.json()["seq"])


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# for `bartender serve` subprocesses in tests: cheap argon2, no forecast workers spawned
# ahead of need (each imports statsforecast: seconds of CPU the other tests need)
TEST_SERVER_ENV = {
    "BARTENDER_ARGON2_TIME_COST": "1",
    "BARTENDER_ARGON2_MEMORY_KIB": "1024",
    "BARTENDER_ARGON2_PARALLELISM": "1",
    "BARTENDER_FORECAST_PREWARM": "0",
}


@contextlib.asynccontextmanager
async def spawn_server(database_url: str, **env: str) -> AsyncIterator[str]:
    """Run `bartender serve` as its own process (a real separate server); yields its base URL."""
    import os
    import subprocess
    import sys

    port = free_port()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bartender.cli", "serve", "--port", str(port)],
        env={
            **os.environ,
            **TEST_SERVER_ENV,
            "DATABASE_URL": database_url,
            "BARTENDER_LOG_LEVEL": "WARNING",
            **env,
        },
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(300):
                if proc.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"server died: {log.read().decode()[-2000:]}")
                try:
                    if (await client.get(f"{base}/api/ready")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError("server did not become ready")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
