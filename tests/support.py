"""Test helpers shared by every domain's tests: a served app and a small API client."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import itertools
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
    Sequence,
)
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
        gc_freeze_s=0,  # the collector is process-wide: no freezing inside pytest
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
    """A port nothing listens on now (the one definition: import it, do not copy it)."""
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


class ServeProcess:
    """`bartender serve` as its own process: the one way the tests start the real command (a
    real separate server). The port is its own and kept across restarts (stop, kill -9, start
    again); output goes to a file, not a pipe, since grandchildren (PostgreSQL, forecast
    workers) may hold a pipe open after the server exits. `with` (sync) and `async with` start
    it, wait until /api/ready answers 200, and stop it."""

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        args: Sequence[str] = (),
        unset: Iterable[str] = (),
        preexec_fn: Callable[[], object] | None = None,
    ) -> None:
        self.port = free_port()
        self.args = tuple(args)
        inherited = {k: v for k, v in os.environ.items() if k not in set(unset)}
        self.env = {**inherited, **TEST_SERVER_ENV, "BARTENDER_LOG_LEVEL": "WARNING", **(env or {})}
        self.preexec_fn = preexec_fn
        self.log = tempfile.TemporaryFile()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bartender.cli", "serve", "--port", str(self.port), *self.args],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            preexec_fn=self.preexec_fn,
        )

    def _answers_ready(self, answer: httpx.Response | None) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"serve on {self.port} exited: {self.output()[-2000:]}")
        return answer is not None and answer.status_code == 200

    def wait_ready(self, timeout_s: float = 60) -> None:
        """Block until /api/ready answers 200 (for sync tests and fixtures)."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                answer: httpx.Response | None = httpx.get(f"{self.base_url}/api/ready", timeout=2)
            except httpx.TransportError:
                answer = None
            if self._answers_ready(answer):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"serve on {self.port} not ready after {timeout_s} s")
            time.sleep(0.05)

    async def ready(self, timeout_s: float = 60) -> None:
        """Wait until /api/ready answers 200 without blocking the event loop."""
        async with httpx.AsyncClient(timeout=2) as client:

            async def check() -> bool:
                try:
                    answer: httpx.Response | None = await client.get(f"{self.base_url}/api/ready")
                except httpx.TransportError:
                    answer = None
                return self._answers_ready(answer)

            await eventually(check, within=timeout_s, every=0.05, what=f"serve on {self.port}")

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 30) -> int:
        """Signal the process and wait for it to exit (kill it past `timeout_s`); its code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.stop(signal.SIGTERM, 15)
        self.log.close()

    def __enter__(self) -> ServeProcess:
        self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> ServeProcess:
        self.start()
        try:
            await self.ready()
        except BaseException:
            self.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


@contextlib.asynccontextmanager
async def spawn_server(database_url: str, **env: str) -> AsyncIterator[str]:
    """Run `bartender serve` as its own process on `database_url`; yields its base URL."""
    async with ServeProcess({"DATABASE_URL": database_url, **env}) as server:
        yield server.base_url
