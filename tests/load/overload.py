"""Overload: sales open-loop against `bartender serve` while CPU-bound neighbours take the cores.

Reproduces issue 11's table in one run, on this machine:
  1. an embedded PostgreSQL and one `bartender serve` process (no Redis), seeded with B bars;
  2. optionally, a separate process holding N websockets subscribed to those bars;
  3. a separate process posting sales open-loop at R/s over C keep-alive connections, each
     request timed from its scheduled instant (so a queue in the client counts too);
  4. three phases: quiet, overload (K CPU-bound neighbour processes, each ending on its own
     after the phase), recovery (neighbours gone);
  5. then every sale refused with 503 is retried with the same id and body; the database must
     hold each of them exactly once, and every 201 of the run.

Prints ONE JSON line (stdout): per-second p50/p99/max and statuses, per-phase summaries, the
targets' verdicts, the 503 reasons from the server's /metrics. Localhost only, bounded in
count and time.

  python tests/load/overload.py --rate 300 --neighbours 3
  python tests/load/overload.py --rate 200 --neighbours 2 --sockets 5000 --socket-bars 500
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from seeding import deliver, owned_bar, owner

PRODUCTS, STOCK = 12, 1_000_000
LIMITS = {"rate": 2000, "phase_s": 120, "neighbours": 8, "sockets": 10_000, "bars": 1000}
SELF = os.path.abspath(__file__)
BURN = "import time\nend = time.monotonic() + {s}\nwhile time.monotonic() < end:\n    pass\n"


def quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return round(s[min(len(s) - 1, int(q * len(s)))] * 1000, 1)


async def seed(url: str, bars: int) -> tuple[list[list[str]], str, str]:
    """B bars of 12 products with deep stock (through bt_deliver), one owner of them all."""
    conn = await asyncpg.connect(url)
    try:
        user, email, password = await owner(conn, "Overload")
        targets = []
        for b in range(bars):
            bar = await owned_bar(conn, user, f"Load {b}")
            products = await conn.fetch(
                "INSERT INTO products (bar_id, name, price) "
                "SELECT $1, 'P' || n, 500 FROM generate_series(1, $2) n RETURNING id",
                bar,
                PRODUCTS,
            )
            await deliver(
                conn, bar, user, [{"product_id": str(p["id"]), "qty": STOCK} for p in products]
            )
            targets += [[str(bar), str(p["id"])] for p in products]
        return targets, email, password
    finally:
        await conn.close()


# --- role: sales (its own process) --------------------------------------------------------


async def post(session: aiohttp.ClientSession, base: str, headers: dict, sale: dict) -> dict:
    """One sale; returns status, problem type and Retry-After (or the client-side failure)."""
    try:
        async with session.post(
            f"{base}/api/bars/{sale['bar']}/sales", data=sale["body"], headers=headers
        ) as r:
            payload = await r.read()
            out: dict[str, Any] = {"status": r.status, "retry_after": r.headers.get("Retry-After")}
            if r.status not in (200, 201):
                try:
                    out["type"] = json.loads(payload).get("type")
                except ValueError:
                    out["type"] = None
            return out
    except TimeoutError:
        return {"status": "timeout"}
    except aiohttp.ClientError as exc:
        return {"status": f"error:{type(exc).__name__}"}


async def sales_role(job: dict) -> dict:
    targets, base, rate, total_s = job["targets"], job["base"], job["rate"], job["total_s"]
    headers = {"Authorization": f"Bearer {job['token']}", "Content-Type": "application/json"}
    gc.freeze()  # the generator's own GC pauses would show up as server latency
    loop = asyncio.get_running_loop()
    records: list[dict] = []
    connector = aiohttp.TCPConnector(limit=job["connections"])
    timeout = aiohttp.ClientTimeout(total=job["client_timeout_s"])
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one(at: float, sale: dict) -> None:
            result = await post(session, base, headers, sale)
            done = loop.time()
            records.append({**sale, **result, "at": at, "latency": done - (start + at)})

        start = loop.time() + 0.2
        tasks = []
        for i in range(int(rate * total_s)):
            at = i / rate
            delay = start + at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            bar, product = random.choice(targets)
            body = json.dumps(
                {"id": str(uuid.uuid4()), "items": [{"product_id": product, "qty": 1}]}
            )
            sale = {"bar": bar, "body": body}
            tasks.append(asyncio.create_task(one(at, sale)))
        await asyncio.gather(*tasks)

        # After the run (the neighbours are gone by now): every refused sale again, same id.
        refused = [r for r in records if r["status"] != 201]
        retried: Counter[str] = Counter()
        await asyncio.sleep(1.0)  # what Retry-After asks
        gate = asyncio.Semaphore(8)

        async def retry(rec: dict) -> None:
            async with gate:
                for _ in range(10):
                    result = await post(session, base, headers, rec)
                    if result["status"] in (200, 201):
                        retried[str(result["status"])] += 1
                        return
                    await asyncio.sleep(float(result.get("retry_after") or 1))
                retried["gave_up"] += 1

        await asyncio.gather(*(retry(r) for r in refused))
    return {
        "records": [
            {k: r.get(k) for k in ("at", "latency", "status", "type", "retry_after")}
            for r in records
        ],
        "refused_ids": [json.loads(r["body"])["id"] for r in refused],
        "created_ids": [json.loads(r["body"])["id"] for r in records if r["status"] == 201],
        "retried": dict(retried),
        "generator_cpu_s": round(time.process_time(), 2),
    }


# --- role: sockets (its own process) ------------------------------------------------------


async def sockets_role(job: dict) -> None:
    """Hold N websockets subscribed to the first bars; drain what arrives; until the deadline."""
    from websockets.asyncio.client import connect

    bars = job["bars"]
    deadline = time.monotonic() + job["hold_s"]
    opened: list[Any] = []
    received = 0

    async def open_one(i: int) -> None:
        ws = await connect(job["ws_url"], max_size=2**20, open_timeout=60)
        await ws.send(json.dumps({"type": "auth", "token": job["token"]}))
        await ws.recv()
        await ws.send(json.dumps({"type": "subscribe", "bar_id": bars[i % len(bars)]}))
        opened.append(ws)

    gate = asyncio.Semaphore(100)

    async def gated(i: int) -> None:
        async with gate:
            await open_one(i)

    await asyncio.gather(*(gated(i) for i in range(job["sockets"])))
    gc.freeze()
    print(f"ready {len(opened)}", flush=True)

    async def drain(ws: Any) -> None:
        nonlocal received
        try:
            while time.monotonic() < deadline:
                await asyncio.wait_for(ws.recv(), timeout=max(0.1, deadline - time.monotonic()))
                received += 1
        except (TimeoutError, Exception):
            return

    await asyncio.gather(*(drain(ws) for ws in opened))
    for ws in opened:
        await ws.close()
    print(f"done {received}", flush=True)


# --- the conductor ------------------------------------------------------------------------


def wait_ready(base: str, proc: subprocess.Popen) -> None:
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


def scrape_503_reasons(base: str) -> dict[str, float]:
    try:
        with urllib.request.urlopen(f"{base}/metrics") as r:  # loopback: no token needed
            text = r.read().decode()
    except OSError:  # a build without /metrics (the "before" runs)
        return {}
    reasons: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("bartender_http_503_total{"):
            labels, value = line.rsplit(" ", 1)
            reasons[labels[len("bartender_http_503_total") :]] = float(value)
    return reasons


def summarise(records: list[dict], args: argparse.Namespace) -> dict:
    phases = [
        ("quiet", 0, args.quiet),
        ("overload", args.quiet, args.quiet + args.overload),
        ("recovery", args.quiet + args.overload, args.quiet + args.overload + args.recover),
    ]

    def phase_of(at: float) -> str:
        return next(name for name, lo, hi in phases if lo <= at < hi or name == "recovery")

    per_second = []
    for second in range(int(args.quiet + args.overload + args.recover)):
        rs = [r for r in records if int(r["at"]) == second]
        lat = [r["latency"] for r in rs]
        per_second.append(
            {
                "s": second,
                "phase": phase_of(second),
                "n": len(rs),
                "p50_ms": quantile(lat, 0.5),
                "p99_ms": quantile(lat, 0.99),
                "max_ms": quantile(lat, 1.0),
                "status": dict(Counter(str(r["status"]) for r in rs)),
            }
        )
    by_phase = {}
    for name, lo, hi in phases:
        rs = [r for r in records if lo <= r["at"] < hi]
        lat = [r["latency"] for r in rs]
        by_phase[name] = {
            "sales_offered": len(rs),
            "p50_ms": quantile(lat, 0.5),
            "p99_ms": quantile(lat, 0.99),
            "max_ms": quantile(lat, 1.0),
            "status": dict(Counter(str(r["status"]) for r in rs)),
        }
    return {"per_second": per_second, "phases": by_phase}


async def conduct(args: argparse.Namespace) -> dict:
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="bt-overload-xdg-"))
    os.chmod(os.environ["XDG_RUNTIME_DIR"], 0o700)
    from bartender.db.embedded import EmbeddedPostgres
    from bartender.db.migrate import migrate

    work = Path(tempfile.mkdtemp(prefix="bt-overload-", dir="/tmp"))
    pg = EmbeddedPostgres(work / "pg")
    url = pg.start()
    children: list[subprocess.Popen] = []
    try:
        await migrate(url)
        targets, email, password = await seed(url, args.bars)
        port = 18000 + random.randint(0, 999)
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(  # noqa: ASYNC220 (setup, before any timing)
            [sys.executable, "-m", "bartender.cli", "serve", "--port", str(port)],
            env={
                **os.environ,
                "DATABASE_URL": url,
                "BARTENDER_LOG_LEVEL": "WARNING",
                "BARTENDER_FORECAST_PREWARM": "0",
            },
            stdout=subprocess.DEVNULL,
            stderr=open(work / "server.log", "wb"),  # noqa: ASYNC230, SIM115
        )
        children.append(server)
        wait_ready(base, server)
        async with (
            aiohttp.ClientSession() as s,
            s.post(f"{base}/api/auth/login", json={"email": email, "password": password}) as r,
        ):
            token = (await r.json())["access_token"]
        me = [sys.executable, SELF]
        holder = None
        if args.sockets:
            bars = sorted({bar for bar, _ in targets})[: args.socket_bars]
            hold_s = args.quiet + args.overload + args.recover + 60
            job = {"bars": bars, "token": token, "sockets": args.sockets, "hold_s": hold_s}
            (work / "sockets.json").write_text(
                json.dumps({**job, "ws_url": f"ws://127.0.0.1:{port}/ws"})
            )
            holder = subprocess.Popen(  # noqa: ASYNC220
                [*me, "--role", "sockets", "--job", str(work / "sockets.json")],
                stdout=subprocess.PIPE,
                text=True,
            )
            children.append(holder)
            ready = await asyncio.to_thread(holder.stdout.readline)  # type: ignore[union-attr]
            if not ready.startswith("ready"):
                raise SystemExit(f"socket holder failed: {ready!r}")
        total_s = args.quiet + args.overload + args.recover
        job = {
            "targets": targets,
            "base": base,
            "token": token,
            "rate": args.rate,
            "total_s": total_s,
            "connections": args.connections,
            "client_timeout_s": 30,
        }
        (work / "sales.json").write_text(json.dumps(job))
        out = work / "sales-out.json"
        gen = subprocess.Popen(  # noqa: ASYNC220
            [*me, "--role", "sales", "--job", str(work / "sales.json"), "--out", str(out)]
        )
        children.append(gen)
        if args.generator_nice:  # the phones are not on the server's CPU: neither is their load
            os.setpriority(os.PRIO_PROCESS, gen.pid, args.generator_nice)
        await asyncio.sleep(0.2 + args.quiet)
        burners = [
            subprocess.Popen([sys.executable, "-c", BURN.format(s=args.overload)])  # noqa: ASYNC220
            for _ in range(args.neighbours)
        ]
        children += burners
        await asyncio.to_thread(gen.wait, total_s + 600)
        result = json.loads(out.read_text())
        records = result["records"]
        conn = await asyncpg.connect(url)
        try:
            refused_ids = result["refused_ids"]
            in_db = await conn.fetchval(
                "SELECT count(*) FROM sales WHERE id = ANY($1::uuid[])", refused_ids
            )
            all_sales = await conn.fetchval("SELECT count(*) FROM sales")
        finally:
            await conn.close()
        reasons = scrape_503_reasons(base)
        non_201 = [r for r in records if r["status"] != 201]
        summary = summarise(records, args)
        recovery_p99 = [
            s["p99_ms"] for s in summary["per_second"] if s["phase"] == "recovery" and s["n"]
        ]
        overload_recs = [r for r in records if args.quiet <= r["at"] < args.quiet + args.overload]
        return {
            "bench": "overload",
            "rate": args.rate,
            "connections": args.connections,
            "bars": args.bars,
            "neighbours": args.neighbours,
            "sockets": args.sockets,
            "phases_s": [args.quiet, args.overload, args.recover],
            "generator_nice": args.generator_nice,
            **summary,
            "statuses": dict(Counter(str(r["status"]) for r in records)),
            "refused": len(non_201),
            "retried": result["retried"],
            "refused_in_db_once": in_db,
            "sales_in_db": all_sales,
            "sales_expected_in_db": len(result["created_ids"]) + len(refused_ids),
            "server_503_by_reason": reasons,
            "generator_cpu_s": result["generator_cpu_s"],
            "targets": {
                "max_under_overload_ms": quantile([r["latency"] for r in overload_recs], 1.0),
                "no_answer_over_3s": all(r["latency"] <= 3.0 for r in records),
                "every_non_201_is_503_busy_with_retry_after": all(
                    r["status"] == 503 and r.get("type") == "busy" and r.get("retry_after")
                    for r in non_201
                ),
                "refused_retried_exactly_once": in_db == len(refused_ids)
                and result["retried"].get("gave_up", 0) == 0
                and all_sales == len(result["created_ids"]) + len(refused_ids),
                "recovery_p99_max_ms": max(recovery_p99) if recovery_p99 else None,
                "recovery_p99_under_100ms_every_second": all(p < 100 for p in recovery_p99),
            },
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "load_average_at_end": os.getloadavg(),
            },
        }
    finally:
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
                try:
                    child.wait(15)
                except subprocess.TimeoutExpired:
                    child.kill()
        pg.stop()


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--rate", type=float, default=300, help="sales per second, open loop")
    p.add_argument("--connections", type=int, default=64, help="keep-alive connections")
    p.add_argument("--bars", type=int, default=100)
    p.add_argument("--neighbours", type=int, default=3, help="CPU-bound processes in overload")
    p.add_argument("--quiet", type=float, default=10, help="seconds before the neighbours")
    p.add_argument("--overload", type=float, default=20, help="seconds with the neighbours")
    p.add_argument("--recover", type=float, default=10, help="seconds after they stop")
    p.add_argument("--sockets", type=int, default=0, help="websockets held by another process")
    p.add_argument("--socket-bars", type=int, default=100)
    p.add_argument(
        "--generator-nice", type=int, default=0, help="niceness of the sales process (e.g. -5)"
    )
    p.add_argument("--role", choices=["conduct", "sales", "sockets"], default="conduct")
    p.add_argument("--job")
    p.add_argument("--out")
    args = p.parse_args()
    if args.role == "sales":
        out = asyncio.run(sales_role(json.loads(Path(args.job).read_text())))
        Path(args.out).write_text(json.dumps(out))
        return 0
    if args.role == "sockets":
        asyncio.run(sockets_role(json.loads(Path(args.job).read_text())))
        return 0
    if not (
        0 < args.rate <= LIMITS["rate"]
        and all(0 <= x <= LIMITS["phase_s"] for x in (args.quiet, args.overload, args.recover))
        and 0 <= args.neighbours <= LIMITS["neighbours"]
        and 0 <= args.sockets <= LIMITS["sockets"]
        and 1 <= args.bars <= LIMITS["bars"]
        and 1 <= args.connections <= 1024
    ):
        p.error(f"out of bounds: {LIMITS}, connections 1..1024")
    result = asyncio.run(conduct(args))
    print(json.dumps(result))
    t = result["targets"]
    print(
        f"phases {json.dumps(result['phases'])}\ntargets {json.dumps(t)}\n"
        f"503 by reason {result['server_503_by_reason']}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
