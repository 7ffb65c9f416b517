"""While a burst of logins runs (production argon2 cost), how long does a request that needs
a pooled connection wait? One JSON line: the latency of GET /api/bars sent back to back while
8 logins run at once, 3 rounds, with a pool of 2 connections (the pool is small so that
holding a connection across the password hash shows).

    python tests/load/login_burst.py

Compare two builds by putting the other one's backend/ first on PYTHONPATH.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="bt-xdg-"))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root: tests.*

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from tests.support import PASSWORD, database_url_for, make_settings, start_server  # noqa: E402

import bartender  # noqa: E402
from bartender.db.embedded import EmbeddedPostgres  # noqa: E402
from bartender.db.migrate import migrate  # noqa: E402

LOGINS, ROUNDS = 8, 3


async def measure(url: str) -> dict[str, object]:
    settings = make_settings(
        url,
        pool_min_size=2,
        pool_max_size=2,
        argon2_time_cost=3,  # the production defaults (tests use a cheap hash)
        argon2_memory_kib=65536,
        argon2_parallelism=4,
        login_max_failures_per_address=10**6,
    )
    async with (
        start_server(settings) as server,
        httpx.AsyncClient(base_url=server.base_url, timeout=60) as http,
    ):
        emails = [f"burst{i}@example.com" for i in range(LOGINS)]
        for email in emails:
            body = {"email": email, "password": PASSWORD, "name": "U"}
            await http.post("/api/auth/signup", json=body)
        login = {"email": emails[0], "password": PASSWORD}
        token = (await http.post("/api/auth/login", json=login)).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        waits_ms: list[float] = []
        busy = 0
        for _ in range(ROUNDS):
            logins = [
                asyncio.create_task(
                    http.post("/api/auth/login", json={"email": e, "password": PASSWORD})
                )
                for e in emails
            ]
            while not all(t.done() for t in logins):
                start = time.perf_counter()
                r = await http.get("/api/bars", headers=headers)
                waits_ms.append((time.perf_counter() - start) * 1000)
                busy += r.status_code == 503
            await asyncio.gather(*logins)
    return {
        "code": str(Path(bartender.__file__).parent),
        "logins_at_once": LOGINS,
        "pool_max": 2,
        "gets": len(waits_ms),
        "get_p50_ms": round(statistics.median(waits_ms), 1),
        "get_max_ms": round(max(waits_ms), 1),
        "get_503": busy,
        "load_avg_1m": os.getloadavg()[0],
    }


async def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bt-login-burst-", dir="/tmp"))
    server = EmbeddedPostgres(data_dir)
    admin = server.start()
    try:
        conn = await asyncpg.connect(admin)
        await conn.execute("CREATE DATABASE burst")
        await conn.close()
        url = database_url_for(admin, "burst")
        await migrate(url)
        print(json.dumps(await measure(url)))
    finally:
        server.stop(immediate=True)


if __name__ == "__main__":
    asyncio.run(main())
