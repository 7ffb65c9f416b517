"""`bartender loadtest`: websocket fan-out under sales, measured end to end.

Opens N websocket clients over B bars (auth + subscribe), drives sales at a target rate over
HTTP for a fixed time, and reports: connect time, sale latency p50/p95/p99 (HTTP round trip),
sale-response -> subscriber latency p50/p95/p99/max (negative when the message beats the HTTP
answer; request -> subscriber is reported too), deliveries expected vs received, lost,
duplicated, seq gaps, server RSS per idle connection and CPU (for the pids given or spawned).
Prints one JSON line, then a readable summary on stderr.

With --reference it also measures a plain python-websockets broadcast server
(tests/load/reference_server.py) with the same clients and rate, and reports our figures as
ratios of it.

Bounded: at most 20000 clients, 2000 sales/s and 600 s; localhost only unless --allow-remote.
The generator's own garbage collector is disabled (gc.disable(), then gc.freeze() once
connected): with thousands of live sockets its pauses would otherwise show up as server
latency. The JSON says so ("gc": "disabled").

Examples:
  bartender loadtest --spawn --clients 1000 --bars 100 --rate 200 --duration 20 --reference
  bartender loadtest --url http://127.0.0.1:8000 --server-pid 1234 --clients 5000 --bars 500
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import ipaddress
import json
import os
import platform
import resource
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import psutil
from websockets.asyncio.client import ClientConnection, connect

MAX_CLIENTS, MAX_RATE, MAX_DURATION_S = 20_000, 2000, 600
HERE = Path(__file__).resolve().parent


# -- measurements -------------------------------------------------------------------------------


def percentiles(samples: list[float]) -> dict[str, float | None]:
    if not samples:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": round(ordered[-1] * 1000, 2)}


class ServerProcesses:
    """RSS and CPU time of the server's processes (the app processes given, not their
    children: an embedded PostgreSQL or forecast workers are not the websocket server)."""

    def __init__(self, pids: list[int]) -> None:
        self.procs = [psutil.Process(pid) for pid in pids]

    def rss(self) -> int:
        total = 0
        for proc in self.procs:
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        return total

    def cpu_s(self) -> float:
        total = 0.0
        for proc in self.procs:
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                total += times.user + times.system
        return total


@dataclass
class Client:
    bar: str
    conn: ClientConnection | None = None
    last_seq: int = -1
    received: int = 0
    duplicated: int = 0
    gaps: int = 0
    polls: int = 0
    arrivals: list[tuple[int, float]] = field(default_factory=list)


@dataclass
class Target:
    """What is being measured: how to set bars up, connect, and make a sale."""

    name: str
    ws_url: str
    token: str
    bars: list[str]
    sell: Callable[[str], Awaitable[int]]  # bar -> seq of the committed sale
    close: Callable[[], Awaitable[None]]


# -- targets --------------------------------------------------------------------------------------


async def bartender_target(
    base_url: str, bars: int, stock: int, session: aiohttp.ClientSession
) -> Target:
    email = f"loadtest-{uuid.uuid4().hex[:10]}@example.com"
    password = uuid.uuid4().hex
    async with session.post(
        f"{base_url}/api/auth/signup", json={"email": email, "password": password, "name": "Load"}
    ) as r:
        assert r.status == 201, await r.text()
    async with session.post(
        f"{base_url}/api/auth/login", json={"email": email, "password": password}
    ) as r:
        assert r.status == 200, await r.text()
        token = (await r.json())["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    products: dict[str, str] = {}

    async def make_bar(i: int) -> None:
        async with session.post(
            f"{base_url}/api/bars",
            headers=headers,
            json={"name": f"Load {i}", "currency": "XOF", "timezone": "Africa/Abidjan"},
        ) as r:
            assert r.status == 201, await r.text()
            bar = (await r.json())["id"]
        async with session.post(
            f"{base_url}/api/bars/{bar}/products",
            headers=headers,
            json={
                "name": "Flag",
                "category": "Bières",
                "price": 1000,
                "low_threshold": 0,
                "par_level": 0,
            },
        ) as r:
            assert r.status == 201, await r.text()
            product = (await r.json())["id"]
        async with session.post(
            f"{base_url}/api/bars/{bar}/deliveries",
            headers=headers,
            json={"id": str(uuid.uuid4()), "items": [{"product_id": product, "qty": stock}]},
        ) as r:
            assert r.status == 201, await r.text()
        products[bar] = product

    await gather_bounded([make_bar(i) for i in range(bars)], 16)

    async def sell(bar: str) -> int:
        async with session.post(
            f"{base_url}/api/bars/{bar}/sales",
            headers=headers,
            json={"id": str(uuid.uuid4()), "items": [{"product_id": products[bar], "qty": 1}]},
        ) as r:
            if r.status != 201:
                raise RuntimeError(f"sale answered {r.status}: {await r.text()}")
            return int((await r.json())["seq"])

    async def close() -> None:
        return None

    ws_url = base_url.replace("http://", "ws://").replace("https://", "wss://") + "/ws"
    return Target("bartender", ws_url, token, list(products), sell, close)


async def reference_target(port: int, bars: int) -> Target:
    ws_url = f"ws://127.0.0.1:{port}/"
    publisher = await connect(ws_url, compression=None, max_queue=None)
    pending: dict[str, asyncio.Queue[int]] = {}
    lock = asyncio.Lock()

    async def read_acks() -> None:
        async for raw in publisher:
            message = json.loads(raw)
            if message.get("type") == "published":
                pending[message["bar_id"]].put_nowait(message["seq"])

    reader = asyncio.create_task(read_acks())
    names = [str(uuid.uuid4()) for _ in range(bars)]
    for name in names:
        pending[name] = asyncio.Queue()

    async def sell(bar: str) -> int:
        async with lock:  # one publish per bar in flight keeps acks in order
            await publisher.send(json.dumps({"type": "publish", "bar_id": bar}))
        return await pending[bar].get()

    async def close() -> None:
        reader.cancel()
        await publisher.close()

    return Target("reference", ws_url, "reference", names, sell, close)


# -- the run ---------------------------------------------------------------------------------------


async def gather_bounded(coros: list[Awaitable[Any]], limit: int) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(coro: Awaitable[Any]) -> Any:
        async with gate:
            return await coro

    return await asyncio.gather(*(one(c) for c in coros))


async def open_client(target: Target, client: Client, deflate: bool) -> float:
    started = time.perf_counter()
    conn = await connect(
        target.ws_url,
        compression="deflate" if deflate else None,
        open_timeout=30,
        max_queue=None,
        ping_interval=None,
    )
    await conn.send(json.dumps({"type": "auth", "token": target.token}))
    ready = json.loads(await conn.recv())
    if ready.get("type") != "ready":
        raise RuntimeError(f"auth refused: {ready}")
    await conn.send(json.dumps({"type": "subscribe", "bar_id": client.bar, "since": None}))
    while True:
        message = json.loads(await conn.recv())
        if message["type"] == "snapshot":
            client.last_seq = message["seq"]
        elif message["type"] == "stock":
            client.last_seq = message["seq"]
        elif message["type"] == "mode":
            break
    client.conn = conn
    return time.perf_counter() - started


async def listen(client: Client) -> None:
    assert client.conn is not None
    with contextlib.suppress(Exception):
        async for raw in client.conn:
            now = time.perf_counter()
            message = json.loads(raw)
            kind = message["type"]
            if kind == "stock":
                seq = message["seq"]
                if seq <= client.last_seq:
                    client.duplicated += 1
                    continue
                if seq > client.last_seq + 1:
                    client.gaps += 1
                client.last_seq = seq
                client.received += 1
                client.arrivals.append((seq, now))
            elif kind == "snapshot":
                client.last_seq = max(client.last_seq, message["seq"])
            elif kind == "mode" and message["mode"] == "poll":
                client.polls += 1


async def measure(
    target: Target,
    *,
    clients: int,
    rate: float,
    duration: float,
    pids: list[int],
    deflate: bool,
    connect_concurrency: int,
) -> dict[str, Any]:
    server = ServerProcesses(pids) if pids else None
    fleet = [Client(bar=target.bars[i % len(target.bars)]) for i in range(clients)]
    # RSS per idle socket is the marginal cost: from half the sockets to all of them, so
    # the server's one-off warm-up (first sockets, pools, caches) does not count
    half = clients // 2
    connect_started = time.perf_counter()
    connect_times = await gather_bounded(
        [open_client(target, c, deflate) for c in fleet[:half]], connect_concurrency
    )
    await asyncio.sleep(1.0)
    rss_half = server.rss() if server else 0
    connect_times += await gather_bounded(
        [open_client(target, c, deflate) for c in fleet[half:]], connect_concurrency
    )
    connect_wall = time.perf_counter() - connect_started
    gc.freeze()  # everything alive now is long-lived: never scan it
    listeners = [asyncio.create_task(listen(c)) for c in fleet]
    await asyncio.sleep(2.0)  # idle: let the server settle its buffers
    rss_idle = server.rss() if server else 0

    per_bar: dict[str, int] = {}
    for c in fleet:
        per_bar[c.bar] = per_bar.get(c.bar, 0) + 1
    sales: list[tuple[str, int, float, float]] = []  # bar, seq, sent, answered
    failures = 0
    in_flight: set[asyncio.Task[None]] = set()
    behind = 0

    async def one_sale(bar: str) -> None:
        nonlocal failures
        sent = time.perf_counter()
        try:
            seq = await target.sell(bar)
        except Exception:
            failures += 1
            return
        sales.append((bar, seq, sent, time.perf_counter()))

    cpu_before = server.cpu_s() if server else 0.0
    started = time.perf_counter()
    total = int(rate * duration)
    for n in range(total):
        due = started + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(in_flight) >= 512:  # bounded: the server is not keeping up
            behind += 1
            continue
        task = asyncio.create_task(one_sale(target.bars[n % len(target.bars)]))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    if in_flight:
        await asyncio.wait(in_flight, timeout=30)
    drive_s = time.perf_counter() - started
    expected = sum(per_bar[bar] for bar, *_ in sales)
    deadline = time.perf_counter() + 10
    while sum(c.received for c in fleet) < expected and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    cpu_s = (server.cpu_s() - cpu_before) if server else 0.0
    elapsed = time.perf_counter() - started

    timing = {(bar, seq): (sent, done) for bar, seq, sent, done in sales}
    after_answer: list[float] = []  # negative: the message beat the HTTP answer
    after_request: list[float] = []
    matched = 0
    for c in fleet:
        for seq, at in c.arrivals:
            times = timing.get((c.bar, seq))
            if times is not None:
                matched += 1
                after_request.append(at - times[0])
                after_answer.append(at - times[1])
    for task in listeners:
        task.cancel()
    await gather_bounded([c.conn.close() for c in fleet if c.conn is not None], 500)

    return {
        "target": target.name,
        "clients": clients,
        "bars": len(target.bars),
        "rate_target": rate,
        "duration_s": duration,
        "sales_ok": len(sales),
        "sales_failed": failures,
        "sales_skipped_behind": behind,
        "sales_per_s": round(len(sales) / drive_s, 1),
        "connect_ms": percentiles(connect_times) | {"wall_s": round(connect_wall, 2)},
        "sale_ms": percentiles([done - sent for _, _, sent, done in sales]),
        "delivery_ms": percentiles(after_answer),
        "request_to_delivery_ms": percentiles(after_request),
        "deliveries_expected": expected,
        "deliveries_received": matched,
        "lost": max(0, expected - matched),
        "duplicated": sum(c.duplicated for c in fleet),
        "gaps": sum(c.gaps for c in fleet),
        "poll_mode_messages": sum(c.polls for c in fleet),
        "server_rss_idle_kb_per_conn": round((rss_idle - rss_half) / (clients - half) / 1024, 2)
        if server and clients > half
        else None,
        "server_rss_mb": round(rss_idle / 2**20, 1) if server else None,
        "server_cpu_cores": round(cpu_s / elapsed, 3) if server else None,
    }


# -- processes the tester starts itself ----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def spawned(
    argv: list[str], health_url: str | None, port: int, env: dict[str, str] | None = None
) -> AsyncIterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL)
    try:
        for _ in range(600):
            if proc.poll() is not None:
                raise RuntimeError(f"{argv[0]} exited with {proc.returncode}")
            try:
                if health_url:
                    async with aiohttp.ClientSession() as s, s.get(health_url) as r:
                        if r.status == 200:
                            break
                else:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
            except (aiohttp.ClientError, OSError):
                pass
            await asyncio.sleep(0.1)
        else:
            raise RuntimeError(f"{argv} did not start")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def check_local(url: str, allow_remote: bool) -> None:
    host = urlsplit(url).hostname or ""
    if allow_remote:
        return
    try:
        local = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = False
    if not local:
        raise SystemExit(f"refusing to load {host}: localhost only (use --allow-remote)")


def raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(needed, soft)), hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < needed:
        raise SystemExit(f"need {needed} file descriptors; raise `ulimit -n`")


def ratio(ours: float | None, theirs: float | None) -> float | None:
    if ours is None or theirs is None or theirs <= 0:
        return None
    return round(ours / theirs, 2)


def summary(result: dict[str, Any]) -> str:
    lines = [f"machine: {result['machine']}", f"gc: {result['gc']}"]
    for run in result["runs"]:
        d, s, c = run["delivery_ms"], run["sale_ms"], run["connect_ms"]
        r = run["request_to_delivery_ms"]
        lines += [
            f"[{run['target']}] {run['clients']} sockets over {run['bars']} bars, "
            f"{run['sales_ok']} sales ({run['sales_per_s']}/s, {run['sales_failed']} failed)",
            f"  connect ms p50/p99: {c['p50']}/{c['p99']} (all in {c['wall_s']} s)",
            f"  sale ms p50/p95/p99: {s['p50']}/{s['p95']}/{s['p99']}",
            f"  sale response->subscriber ms p50/p95/p99/max: "
            f"{d['p50']}/{d['p95']}/{d['p99']}/{d['max']} (negative: before the response)",
            f"  sale request->subscriber ms p50/p95/p99/max: "
            f"{r['p50']}/{r['p95']}/{r['p99']}/{r['max']}",
            f"  deliveries {run['deliveries_received']}/{run['deliveries_expected']}: "
            f"lost {run['lost']}, duplicated {run['duplicated']}, gaps {run['gaps']}, "
            f"poll-mode messages {run['poll_mode_messages']}",
            f"  server: {run['server_rss_idle_kb_per_conn']} KB RSS per idle socket, "
            f"{run['server_rss_mb']} MB, {run['server_cpu_cores']} CPU cores",
        ]
    if result.get("ratios"):
        lines.append(
            "bartender / reference: " + ", ".join(f"{k} {v}" for k, v in result["ratios"].items())
        )
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    raise_fd_limit(args.clients * (2 if args.reference else 1) + 1024)
    runs: list[dict[str, Any]] = []
    common = {
        "clients": args.clients,
        "rate": args.rate,
        "duration": args.duration,
        "deflate": not args.no_deflate,
        "connect_concurrency": args.connect_concurrency,
    }
    stock = int(args.rate * args.duration / args.bars * 2) + 100
    connector = aiohttp.TCPConnector(limit=128)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=30)
    ) as session:
        async with contextlib.AsyncExitStack() as stack:
            url, pids = args.url, list(args.server_pid or [])
            if args.spawn:
                port = free_port()
                env = {
                    **os.environ,
                    "BARTENDER_LOG_LEVEL": "WARNING",
                    # measure the websocket server, not forecast workers warming up
                    "BARTENDER_FORECAST_PREWARM": "0",
                }
                proc = await stack.enter_async_context(
                    spawned(
                        [sys.executable, "-m", "bartender.cli", "serve", "--port", str(port)],
                        f"http://127.0.0.1:{port}/api/health",
                        port,
                        env,
                    )
                )
                url, pids = f"http://127.0.0.1:{port}", [proc.pid]
            check_local(url, args.allow_remote)
            target = await bartender_target(url.rstrip("/"), args.bars, stock, session)
            runs.append(await measure(target, pids=pids, **common))
            await target.close()
    if args.reference:
        port = free_port()
        async with spawned(
            [sys.executable, str(HERE / "reference_server.py"), "--port", str(port)], None, port
        ) as proc:
            target = await reference_target(port, args.bars)
            runs.append(await measure(target, pids=[proc.pid], **common))
            await target.close()
    result: dict[str, Any] = {
        "tool": "bartender loadtest",
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpu "
        f"{psutil.virtual_memory().total // 2**30} GiB, {platform.platform()}, "
        f"Python {platform.python_version()}",
        "gc": "disabled",
        "deflate_offered": not args.no_deflate,
        "runs": runs,
    }
    if len(runs) == 2:
        ours, ref = runs
        result["ratios"] = {
            "rss_per_idle_conn": ratio(
                ours["server_rss_idle_kb_per_conn"], ref["server_rss_idle_kb_per_conn"]
            ),
            "request_to_delivery_p99": ratio(
                ours["request_to_delivery_ms"]["p99"], ref["request_to_delivery_ms"]["p99"]
            ),
            "cpu_cores": ratio(ours["server_cpu_cores"], ref["server_cpu_cores"]),
        }
    return result


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="bartender loadtest",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="a running server, e.g. http://127.0.0.1:8000")
    where.add_argument(
        "--spawn",
        action="store_true",
        help="start `bartender serve` (DATABASE_URL or the embedded PostgreSQL)",
    )
    p.add_argument(
        "--server-pid",
        type=int,
        action="append",
        help="server process to measure (RSS, CPU); repeatable",
    )
    p.add_argument("--clients", type=int, default=1000)
    p.add_argument("--bars", type=int, default=100)
    p.add_argument("--rate", type=float, default=200.0, help="sales per second")
    p.add_argument("--duration", type=float, default=20.0, help="seconds of sales")
    p.add_argument("--connect-concurrency", type=int, default=100)
    p.add_argument(
        "--no-deflate",
        action="store_true",
        help="do not offer permessage-deflate (browsers offer it)",
    )
    p.add_argument(
        "--reference",
        action="store_true",
        help="also measure a plain python-websockets server; report ratios",
    )
    p.add_argument("--allow-remote", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not 1 <= args.clients <= MAX_CLIENTS or not 1 <= args.bars <= args.clients:
        raise SystemExit(f"--clients 1..{MAX_CLIENTS}, --bars 1..clients")
    if not 0 < args.rate <= MAX_RATE or not 0 < args.duration <= MAX_DURATION_S:
        raise SystemExit(f"--rate up to {MAX_RATE}/s, --duration up to {MAX_DURATION_S} s")
    gc.disable()  # see the module docstring: the generator's GC pauses are not server latency
    result = asyncio.run(run(args))
    print(json.dumps(result, separators=(",", ":")))
    print(summary(result), file=sys.stderr)
    runs = result["runs"]
    return 0 if all(r["lost"] == 0 and r["gaps"] == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
