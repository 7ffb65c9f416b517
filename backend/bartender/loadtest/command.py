"""`bartender loadtest`: the command line (see the package docstring for what it measures)."""

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
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import psutil

import bartender.loadtest as package
from bartender.loadtest.client import Endpoint
from bartender.loadtest.report import digest, write_csv, write_plot
from bartender.loadtest.runner import Run, RunOptions, Stage
from bartender.loadtest.targets import Plan, ReferenceDriver, SaleDriver, prepare
from bartender.loadtest.thresholds import Threshold, evaluate, parse_threshold

MAX_CLIENTS, MAX_RATE, MAX_DURATION_S = 20_000, 2000, 600
# without --threshold: nothing lost or doubled, and a run where sales or sockets mostly
# failed is not a pass (a sales-only run measures no deliveries)
DEFAULT_THRESHOLDS = ("lost==0", "duplicated==0", "errors<5%")
# every figure a threshold may name (the numeric ones of a run's summary)
METRICS = frozenset(
    {
        "sales_ok", "sales_failed", "sales_retried", "sales_skipped_behind", "sales_per_s",
        "sale_p50_ms", "sale_p95_ms", "sale_p99_ms", "ws_connect_p50_ms", "ws_connect_p95_ms",
        "ws_connect_p99_ms", "delivery_p50_ms", "delivery_p95_ms", "delivery_p99_ms",
        "request_to_delivery_p50_ms", "request_to_delivery_p99_ms",
        "connect_failures", "errors", "deliveries", "lost", "duplicated", "gaps", "reconnects",
        "snapshots", "http_502", "server_rss_idle_kb_per_conn", "server_cpu_cores",
    }
)  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def spawned(
    argv: list[str], port: int, path: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    """A process the tester starts itself, once it answers on 127.0.0.1:port (bounded wait)."""
    env = {**os.environ, "BARTENDER_LOG_LEVEL": "WARNING", "BARTENDER_FORECAST_PREWARM": "0"}
    proc = await asyncio.create_subprocess_exec(*argv, env=env, stdout=asyncio.subprocess.DEVNULL)
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(600):
                if proc.returncode is not None:
                    raise RuntimeError(f"{argv} exited with {proc.returncode}")
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    if path:
                        async with session.get(f"http://127.0.0.1:{port}{path}") as r:
                            if r.status == 200:
                                break
                    else:
                        _, writer = await asyncio.open_connection("127.0.0.1", port)
                        writer.close()
                        break
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError(f"{argv} did not start")
        yield proc
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()


def describe_target(url: str, allow_remote: bool) -> str:
    """Whom this run hits, e.g. `http://bar.example:80 (203.0.113.7)`; refuses a non-local
    host without --allow-remote (ValueError)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        addresses = sorted({str(a[4][0]) for a in socket.getaddrinfo(host, parts.port or 80)})
    except socket.gaierror as exc:
        raise ValueError(f"cannot resolve {host!r}: {exc}") from None
    local = all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)
    if not local and not allow_remote:
        raise ValueError(f"refusing to load {host} ({', '.join(addresses)}): use --allow-remote")
    return f"{parts.scheme}://{parts.netloc} ({', '.join(addresses)})"


def stages_from(args: argparse.Namespace) -> list[Stage]:
    if args.stage:
        return [Stage.parse(text) for text in args.stage]
    # ramp up the sockets with no sales (the server's RSS per idle socket is measured there),
    # then the sale rate at once, hold, and ramp both down
    return [
        Stage(args.ramp_up, args.clients, 0),
        Stage(0, args.clients, args.rate),
        Stage(args.duration, args.clients, args.rate),
        Stage(args.ramp_down, 0, 0),
    ]


def raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, needed), hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < needed:
        raise SystemExit(f"need {needed} file descriptors; raise `ulimit -n`")


def open_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=256), timeout=aiohttp.ClientTimeout(total=30)
    )


async def make_plan(args: argparse.Namespace, stages: list[Stage], url: str) -> Plan:
    if args.plan:
        return Plan.load(Path(args.plan))
    rate = max(s.rate for s in stages)
    total = sum(s.duration_s for s in stages)
    stock = int(rate * total / args.bars * 2) + 100  # never 409 insufficient_stock
    async with open_session() as session:
        return await prepare(session, url.rstrip("/"), args.bars, stock)


async def run_bartender(
    args: argparse.Namespace, stages: list[Stage], plan: Plan, pids: list[int]
) -> tuple[dict[str, Any], Run]:
    async with open_session() as session:
        # a sockets-only run sells nothing but still reads each bar's final seq through it
        driver = SaleDriver(session, plan)
        options = RunOptions(
            stages,
            role=args.role,
            deflate=not args.no_deflate,
            connect_concurrency=args.connect_concurrency,
            server_pids=pids,
        )
        endpoint = Endpoint(plan.ws_url, plan.base_url, plan.token)
        run = Run(endpoint, list(plan.bars), driver, session, options)
        figures = await run.execute()
        return {"name": "bartender", **figures}, run


async def run_reference(
    args: argparse.Namespace, stages: list[Stage]
) -> tuple[dict[str, Any], Run]:
    port = free_port()
    argv = [sys.executable, "-m", "bartender.loadtest.reference_server", "--port", str(port)]
    async with spawned(argv, port, "") as proc:
        driver, plan = await ReferenceDriver.open(f"ws://127.0.0.1:{port}/", args.bars)
        try:
            options = RunOptions(stages, deflate=not args.no_deflate, server_pids=[proc.pid])
            endpoint = Endpoint(f"ws://127.0.0.1:{port}/", "", "reference")
            run = Run(endpoint, list(plan.bars), driver, None, options)
            return {"name": "reference", **await run.execute()}, run
        finally:
            await driver.close()


async def main_async(
    args: argparse.Namespace, thresholds: list[Threshold]
) -> tuple[dict[str, Any], list[Run]]:
    stages = stages_from(args)
    sockets = max(s.sockets for s in stages)
    raise_fd_limit(sockets * (2 if args.reference else 1) + 1024)
    async with contextlib.AsyncExitStack() as stack:
        url, pids = args.url, list(args.server_pid or [])
        if args.plan and not url:
            url = Plan.load(Path(args.plan)).base_url
        if args.spawn:
            port = free_port()
            argv = [sys.executable, "-m", "bartender.cli", "serve", "--port", str(port)]
            proc = await stack.enter_async_context(spawned(argv, port, "/api/ready"))
            url, pids = f"http://127.0.0.1:{port}", [proc.pid]
        target = describe_target(url, args.allow_remote)
        print(f"bartender loadtest: hitting {target}", file=sys.stderr)
        plan = await make_plan(args, stages, url)
        if args.prepare:
            plan.save(Path(args.prepare))
            return {"tool": "bartender loadtest", "target": target, "plan": args.prepare}, []
        first, run = await run_bartender(args, stages, plan, pids)
    runs, done = [first], [run]
    if args.reference:
        second, reference_run = await run_reference(args, stages)
        runs.append(second)
        done.append(reference_run)
    checks = evaluate(thresholds, {k: v for k, v in first.items() if k in METRICS})
    result: dict[str, Any] = {
        "tool": "bartender loadtest",
        "target": target,
        "role": args.role,
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpu "
        f"{psutil.virtual_memory().total // 2**30} GiB, {platform.platform()}, "
        f"Python {platform.python_version()}",
        "gc": "disabled",
        "deflate_offered": not args.no_deflate,
        "stages": [[s.duration_s, s.sockets, s.rate] for s in stages],
        "runs": runs,
        "thresholds": checks,
        "passed": all(c["passed"] for c in checks),
    }
    if len(runs) == 2:
        result["ratios"] = {
            key: ratio(runs[0][key], runs[1][key])
            for key in (
                "server_rss_idle_kb_per_conn",
                "request_to_delivery_p99_ms",
                "server_cpu_cores",
            )
        }
    return result, done


def ratio(ours: float | None, theirs: float | None) -> float | None:
    if ours is None or theirs is None or theirs <= 0:
        return None
    return round(ours / theirs, 2)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="bartender loadtest",
        description=package.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument("--url", help="a running server, e.g. http://127.0.0.1:8000")
    where.add_argument("--spawn", action="store_true", help="start `bartender serve` itself")
    p.add_argument("--plan", help="use the bars a `--prepare FILE` run made (share one run)")
    p.add_argument("--prepare", metavar="FILE", help="make the account and bars, save, exit")
    p.add_argument("--role", choices=("both", "sockets", "sales"), default="both")
    p.add_argument("--clients", type=int, default=1000, help="sockets to hold")
    p.add_argument("--bars", type=int, default=100)
    p.add_argument("--rate", type=float, default=200.0, help="sales per second to hold")
    p.add_argument("--duration", type=float, default=20.0, help="seconds to hold")
    p.add_argument("--ramp-up", type=float, default=5.0, help="seconds to open the sockets")
    p.add_argument("--ramp-down", type=float, default=2.0)
    p.add_argument(
        "--stage",
        action="append",
        metavar="DURATION:SOCKETS:RATE",
        help="instead of the four above, e.g. --stage 30s:1000:50 --stage 60s:1000:200 "
        "--stage 10s:0:0 (linear from the previous stage; repeatable)",
    )
    p.add_argument(
        "--threshold",
        action="append",
        metavar="EXPR",
        help=f"fail (exit 1) unless it holds, e.g. sale_p95_ms<500 errors<1%% lost==0 "
        f"(repeatable; default {' '.join(DEFAULT_THRESHOLDS).replace('%', '%%')})",
    )
    p.add_argument("--server-pid", type=int, action="append", help="measure its RSS and CPU")
    p.add_argument("--connect-concurrency", type=int, default=100)
    p.add_argument("--no-deflate", action="store_true", help="do not offer permessage-deflate")
    p.add_argument("--reference", action="store_true", help="also measure a plain server")
    p.add_argument("--csv", metavar="FILE", help="per-second time series")
    p.add_argument("--plot", metavar="FILE.png", help="sale latency and deliveries/s (matplotlib)")
    p.add_argument("--allow-remote", action="store_true", help="allow a non-local target")
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if not (args.url or args.spawn or args.plan):
        p.error("one of --url, --spawn or --plan is required")
    try:
        stages = stages_from(args)
        names = args.threshold or [
            t for t in DEFAULT_THRESHOLDS if args.role != "sales" or t.startswith("errors")
        ]
        thresholds = [parse_threshold(t, METRICS) for t in names]
        if args.url:
            describe_target(args.url, args.allow_remote)
    except ValueError as exc:
        p.error(str(exc))
    if not 1 <= args.bars <= MAX_CLIENTS:
        p.error(f"--bars 1..{MAX_CLIENTS}")
    if any(s.sockets > MAX_CLIENTS or s.rate > MAX_RATE for s in stages):
        p.error(f"at most {MAX_CLIENTS} sockets and {MAX_RATE} sales/s")
    if not 0 < sum(s.duration_s for s in stages) <= MAX_DURATION_S:
        p.error(f"the stages last 0..{MAX_DURATION_S} s")
    if args.reference and (args.role != "both" or args.plan):
        p.error("--reference measures both roles in this process")
    gc.disable()  # the generator's GC pauses with thousands of sockets are not server latency
    result, runs = asyncio.run(main_async(args, thresholds))
    print(json.dumps(result, separators=(",", ":")))
    if args.prepare:
        return 0
    if args.csv:
        write_csv(runs[0].series, Path(args.csv))
    if args.plot:
        write_plot(runs[0].series, Path(args.plot), f"bartender loadtest {result['target']}")
    print(digest(result), file=sys.stderr)
    return 0 if result["passed"] else 1
