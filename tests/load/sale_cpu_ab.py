"""App CPU per sale, two builds side by side in one run (ratios survive a noisy machine).

Starts one embedded PostgreSQL with two databases and two `bartender serve` processes: the
baseline build (`--baseline`, a `backend/` directory of another checkout, e.g. a `git worktree`
of an older commit) and this checkout's build. Each migrates and is seeded like
`sale_bench.py` (20 bars x 12 products). Then rounds alternate between the two (A B, B A, ...):
K clients post N one-line sales as fast as they are answered; each server's CPU time (user +
system, from its kernel counters via psutil) over its round, divided by the sales, is its
µs per sale. Both see the same machine within a round pair, so the ratio holds when absolute
figures do not.

Prints one JSON line. Localhost only, bounded.

  git worktree add --detach /tmp/before <commit>
  python tests/load/sale_cpu_ab.py --baseline /tmp/before/backend --log-level INFO
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import asyncpg
import psutil

sys.path.insert(0, str(Path(__file__).parent))
from sale_bench import http_load, seed, server_cpu_s, wait_ready  # noqa: E402

HERE_BACKEND = str(Path(__file__).resolve().parents[2] / "backend")


async def start_side(name: str, admin_url: str, backend: str, log_level: str) -> dict:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "cpu_{name}"')
    finally:
        await conn.close()
    url = admin_url.replace("/postgres?", f"/cpu_{name}?")
    port = 18000 + random.randint(0, 999)
    proc = subprocess.Popen(  # noqa: ASYNC220 (setup, before any timing)
        [sys.executable, "-m", "bartender.cli", "serve", "--port", str(port)],
        env={
            **os.environ,
            "PYTHONPATH": backend,
            "DATABASE_URL": url,
            "BARTENDER_LOG_LEVEL": log_level,
            "BARTENDER_FORECAST_PREWARM": "0",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    await asyncio.to_thread(wait_ready, base, proc)  # serve migrates its database first
    targets, email, password = await seed(url)
    async with (
        aiohttp.ClientSession() as s,
        s.post(f"{base}/api/auth/login", json={"email": email, "password": password}) as r,
    ):
        token = (await r.json())["access_token"]
    return {"name": name, "proc": proc, "base": base, "targets": targets, "token": token}


async def main_async(args: argparse.Namespace) -> dict:
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="bt-cpu-xdg-"))
    os.chmod(os.environ["XDG_RUNTIME_DIR"], 0o700)
    from bartender.db.embedded import EmbeddedPostgres

    pg = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="bt-cpu-", dir="/tmp")))
    admin_url = pg.start()
    sides: list[dict] = []
    try:
        sides = [
            await start_side("baseline", admin_url, args.baseline, args.log_level),
            await start_side("current", admin_url, HERE_BACKEND, args.log_level),
        ]
        for side in sides:  # warm-up: statement caches, pools, imports
            await http_load(side["base"], side["token"], side["targets"], args.clients, 2)
        per_round: dict[str, list[dict]] = {"baseline": [], "current": []}
        for r in range(args.rounds):
            for side in sides if r % 2 == 0 else sides[::-1]:
                proc = psutil.Process(side["proc"].pid)
                before = server_cpu_s(proc)
                out = await http_load(
                    side["base"], side["token"], side["targets"], args.clients, args.duration
                )
                used = server_cpu_s(proc) - before
                per_round[side["name"]].append(
                    {
                        "tps": out["tps"],
                        "sales": out["sales"],
                        "errors": out["errors"],
                        "cpu_us_per_sale": round(used / max(1, out["sales"]) * 1e6),
                    }
                )
        ratios = [
            c["cpu_us_per_sale"] / b["cpu_us_per_sale"]
            for b, c in zip(per_round["baseline"], per_round["current"], strict=True)
        ]
        return {
            "bench": "sale_cpu_ab",
            "clients": args.clients,
            "round_s": args.duration,
            "rounds": args.rounds,
            "server_log_level": args.log_level,
            "baseline_backend": args.baseline,
            "cpu_us_per_sale_median": {
                name: statistics.median(x["cpu_us_per_sale"] for x in rounds)
                for name, rounds in per_round.items()
            },
            "tps_median": {
                name: statistics.median(x["tps"] for x in rounds)
                for name, rounds in per_round.items()
            },
            "current_over_baseline_cpu_ratio_median": round(statistics.median(ratios), 3),
            "ratios": [round(x, 3) for x in ratios],
            "per_round": per_round,
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "load_average_at_end": os.getloadavg(),
            },
        }
    finally:
        for side in sides:
            side["proc"].terminate()
            side["proc"].wait(15)
        pg.stop()


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--baseline", required=True, help="backend/ directory of the baseline build")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--duration", type=float, default=5.0, help="seconds per round and side")
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--log-level", default="INFO", help="both servers' BARTENDER_LOG_LEVEL")
    args = p.parse_args()
    if not (1 <= args.clients <= 64 and 1 <= args.duration <= 60 and 1 <= args.rounds <= 10):
        p.error("clients 1..64, duration 1..60 s, rounds 1..10")
    if not (Path(args.baseline) / "bartender" / "app.py").exists():
        p.error(f"{args.baseline} is not a backend/ directory")
    started = time.monotonic()
    result = asyncio.run(main_async(args))
    result["wall_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(result))
    print(
        f"CPU per sale: baseline {result['cpu_us_per_sale_median']['baseline']} us, "
        f"current {result['cpu_us_per_sale_median']['current']} us, "
        f"ratio {result['current_over_baseline_cpu_ratio_median']} (rounds {result['ratios']})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
