"""Forecasts per bar: fit off the event loop, cache per business day, answer from the cache.

Fitting (models + backtests) is CPU work of seconds for a big bar: it runs in a process pool
(`forecast_workers` processes; 0 = a thread, for small setups and tests) and its result is
cached per bar. The cache holds until
- the bar's business day changes (a new complete day of history), or its day settings change;
- a sale or void lands on an earlier business day (an offline sale replayed late, a void of
  yesterday's sale): the history itself changed;
- a product becomes active that has no fit yet (only that product is fitted).
A changed history does not refit at will (a backdated sale before each request would keep
every core busy): a bar is refitted at most once per `refit_interval_s`, one refit at a time;
meanwhile its previous fit is served (`fitted_at` says how old it is). A new business day or
a product without a fit still waits for its fit: an answer needs one.
Today's sales and the current stock do not change the fit: days until stockout, safety stock,
reorder point and the suggested order are recomputed from them on every request (cheap).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import multiprocessing
import os
import time
import uuid
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import asyncpg

from bartender.forecast import history
from bartender.forecast import items as item_history
from bartender.forecast.answer import Prepared, answer, prepare
from bartender.forecast.schemas import ForecastOut
from bartender.forecast.worker import FitResult, die_with_parent, fit_chunk, warm_up
from bartender.observe.metrics import FORECAST_CACHE, FORECAST_REFIT

# today + the longest horizon a client may ask for (60) covers any lead time (0..60) too
FIT_HORIZON = 61
MAX_CACHED_BARS = 1000


@dataclass
class BarFit:
    today: dt.date
    day_key: tuple[str, dt.time]
    seq: int
    fitted_at: dt.datetime
    products: dict[str, Prepared]  # by product id (str: hashes fast)
    # stock items that are not simply a product's own item (those answer with its fit)
    items: dict[str, Prepared] = field(default_factory=dict)


class Forecaster:
    """Per-process fitting pool and per-bar cache (one per Runtime)."""

    def __init__(self, workers: int, refit_interval_s: float = 0.0) -> None:
        self._workers = workers
        self._refit_interval_s = refit_interval_s
        # when each bar's last full refit finished (time.monotonic())
        self._refitted_at: dict[uuid.UUID, float] = {}
        self._executor: ProcessPoolExecutor | None = None
        self._cache: OrderedDict[uuid.UUID, BarFit] = OrderedDict()
        self._locks: dict[uuid.UUID, asyncio.Lock] = {}
        # completed (re)fits and how long the last one took (history query, fitting)
        self.fits_run = 0
        self.last_load_s = 0.0
        self.last_fit_s = 0.0

    def start(self, prewarm: bool) -> None:
        """Create the pool (spawned workers: no forked event loop or sockets)."""
        if self._workers > 0:
            # Workers are spawned by the thread that submits (the event loop's), and die with
            # this process even when it is killed -9 (die_with_parent).
            self._executor = ProcessPoolExecutor(
                self._workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=die_with_parent,
                initargs=(os.getpid(),),
            )
            if prewarm:
                for _ in range(self._workers):
                    self._executor.submit(warm_up)

    def stop(self) -> None:
        if self._executor is not None:
            executor, self._executor = self._executor, None
            # a fit (or the warm-up import) may take seconds: do not make SIGTERM wait for it
            workers = list(getattr(executor, "_processes", {}).values())
            executor.shutdown(wait=False, cancel_futures=True)
            for worker in workers:
                worker.terminate()

    def cached(self, bar_id: uuid.UUID) -> BarFit | None:
        return self._cache.get(bar_id)

    async def forecast(
        self, pool: asyncpg.Pool, bar_id: uuid.UUID, horizon_days: int, include_history: bool
    ) -> ForecastOut:
        async with pool.acquire() as conn:
            now = await history.bar_now(conn, bar_id)
            products = await history.active_products(conn, bar_id, now.today)
            items = await item_history.active_items(conn, bar_id, now.today)
            entry = await self._usable_entry(conn, bar_id, now, self._may_refit_now(bar_id))
        # an item answers with its product's fit when it is just that product (read in the
        # same request: a product activated between the two reads gets an item fit instead)
        listed = {p.id for p in products}
        items = [i if i.id in listed else dataclasses.replace(i, as_product=False) for i in items]
        own_fit = [i.id for i in items if not i.as_product]
        missing = [p.id for p in products if entry is None or str(p.id) not in entry.products]
        missing += [i for i in own_fit if entry is None or str(i) not in entry.items]
        FORECAST_CACHE.labels("miss" if entry is None or missing else "hit").inc()
        if entry is None or missing:
            entry = await self._refit(pool, bar_id, now, [p.id for p in products], own_fit)
        return answer(now, products, items, entry, horizon_days, include_history)

    def _interval_passed(self, bar_id: uuid.UUID) -> bool:
        last = self._refitted_at.get(bar_id)
        return last is None or time.monotonic() - last >= self._refit_interval_s

    def _may_refit_now(self, bar_id: uuid.UUID) -> bool:
        """No refit of this bar is running and the last one is old enough."""
        lock = self._locks.get(bar_id)
        return (lock is None or not lock.locked()) and self._interval_passed(bar_id)

    async def _usable_entry(
        self, conn: asyncpg.Connection, bar_id: uuid.UUID, now: history.BarNow, may_refit: bool
    ) -> BarFit | None:
        """The cached fit if it may answer: fitted on today's history, or on an older history
        while a refit is not allowed (`may_refit` False). None: fit the whole bar."""
        entry = self._cache.get(bar_id)
        if entry is None:
            return None
        if entry.today != now.today or entry.day_key != (now.timezone, now.day_starts_at):
            return None
        if (
            may_refit
            and now.seq > entry.seq
            and await history.history_changed(conn, bar_id, entry.seq, now.today)
        ):
            return None
        self._cache.move_to_end(bar_id)
        return entry

    async def _refit(
        self,
        pool: asyncpg.Pool,
        bar_id: uuid.UUID,
        now: history.BarNow,
        product_ids: list[uuid.UUID],
        item_ids: list[uuid.UUID],
    ) -> BarFit:
        lock = self._locks.setdefault(bar_id, asyncio.Lock())
        async with lock:
            async with pool.acquire() as conn:
                # a concurrent request may have refitted while we waited for the lock
                entry = await self._usable_entry(conn, bar_id, now, self._interval_passed(bar_id))
                todo = [p for p in product_ids if entry is None or str(p) not in entry.products]
                todo_items = [i for i in item_ids if entry is None or str(i) not in entry.items]
                if entry is not None and not todo and not todo_items:
                    return entry
                started = time.perf_counter()
                async with conn.transaction(isolation="repeatable_read", readonly=True):
                    snapshot = await history.bar_now(conn, bar_id)
                    series = await history.load_series(conn, bar_id, snapshot.today, todo)
                    item_series = await item_history.load_series(
                        conn, bar_id, snapshot.today, todo_items
                    )
                self.last_load_s = time.perf_counter() - started
            started = time.perf_counter()
            fits = await self._fit(series)
            item_fits = await self._fit(item_series)
            self.last_fit_s = time.perf_counter() - started
            FORECAST_REFIT.observe(self.last_load_s + self.last_fit_s)
            if entry is None:  # the whole bar (re)fitted: the next one waits its turn
                self._refitted_at[bar_id] = time.monotonic()
                entry = BarFit(
                    snapshot.today,
                    (snapshot.timezone, snapshot.day_starts_at),
                    snapshot.seq,
                    dt.datetime.now(dt.UTC),
                    {},
                )
            for product_id, fit in fits.items():
                entry.products[str(product_id)] = prepare(fit, series[product_id])
            for item_id, fit in item_fits.items():
                entry.items[str(item_id)] = prepare(fit, item_series[item_id])
            self._cache[bar_id] = entry
            self._cache.move_to_end(bar_id)
            while len(self._cache) > MAX_CACHED_BARS:
                evicted, _ = self._cache.popitem(last=False)
                self._locks.pop(evicted, None)
                self._refitted_at.pop(evicted, None)
            self.fits_run += 1
            return entry

    async def _fit(self, series: dict[uuid.UUID, history.Series]) -> dict[uuid.UUID, FitResult]:
        if not series:
            return {}
        # longest histories first, dealt round-robin: chunks of similar cost per worker
        keys = sorted(series, key=lambda k: -len(series[k].sold))
        chunks = max(1, min(self._workers, len(keys)))
        work = [
            {str(k): (series[k].sold, series[k].censored) for k in keys[i::chunks]}
            for i in range(chunks)
        ]
        loop = asyncio.get_running_loop()
        if self._executor is None:
            results = [await asyncio.to_thread(fit_chunk, chunk, FIT_HORIZON) for chunk in work]
        else:
            results = await asyncio.gather(
                *(
                    loop.run_in_executor(self._executor, fit_chunk, chunk, FIT_HORIZON)
                    for chunk in work
                )
            )
        return {uuid.UUID(key): fit for result in results for key, fit in result.items()}
