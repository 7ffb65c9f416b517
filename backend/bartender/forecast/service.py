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
import datetime as dt
import multiprocessing
import os
import time
import uuid
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import asyncpg
import msgspec
import numpy as np

from bartender.forecast import history, policy
from bartender.forecast import items as item_history
from bartender.forecast.schemas import (
    DailyOut,
    ForecastOut,
    HistoryDayOut,
    PacksOut,
    ProductForecastOut,
    StockItemForecastOut,
)
from bartender.forecast.worker import FitResult, die_with_parent, fit_chunk, warm_up
from bartender.observe.metrics import FORECAST_CACHE, FORECAST_REFIT

# today + the longest horizon a client may ask for (60) covers any lead time (0..60) too
FIT_HORIZON = 61
CHART_DAYS = 56  # the tablet charts the last 8 weeks
MAX_CACHED_BARS = 1000


@dataclass
class Prepared:
    """One product's fit, shaped once for fast answers (every warm request reads it)."""

    model: str
    family: str
    dispersion: float
    mean_today: float
    ahead: list[float]  # mean demand for the business days after today
    quantiles: np.ndarray  # (3, days ahead), rounded
    history: msgspec.Raw  # the chart's last 8 weeks, encoded once
    daily: dict[int, msgspec.Raw]  # horizon -> encoded `daily`, filled on first use


@dataclass
class BarFit:
    today: dt.date
    day_key: tuple[str, dt.time]
    seq: int
    fitted_at: dt.datetime
    products: dict[str, Prepared]  # by product id (str: hashes fast)
    # stock items that are not simply a product's own item (those answer with its fit)
    items: dict[str, Prepared] = field(default_factory=dict)


def _prepare(fit: FitResult, series: history.Series) -> Prepared:
    return Prepared(
        fit.model,
        fit.family,
        fit.dispersion,
        float(fit.mean[0]),
        [float(v) for v in fit.mean[1:]],
        np.round(fit.quantiles[:, 1:], 2),
        msgspec.Raw(msgspec.json.encode(_chart_history(series))),
        {},
    )


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
        own_fit = [i.id for i in items if not i.as_product]
        missing = [p.id for p in products if entry is None or str(p.id) not in entry.products]
        missing += [i for i in own_fit if entry is None or str(i) not in entry.items]
        FORECAST_CACHE.labels("miss" if entry is None or missing else "hit").inc()
        if entry is None or missing:
            entry = await self._refit(pool, bar_id, now, [p.id for p in products], own_fit)
        return _answer(now, products, items, entry, horizon_days, include_history)

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
                entry.products[str(product_id)] = _prepare(fit, series[product_id])
            for item_id, fit in item_fits.items():
                entry.items[str(item_id)] = _prepare(fit, item_series[item_id])
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


def _answer(
    now: history.BarNow,
    products: list[history.ProductNow],
    items: list[item_history.ItemNow],
    entry: BarFit,
    horizon_days: int,
    include_history: bool,
) -> ForecastOut:
    packs_of = {item.id: item.packs for item in items}
    out = []
    for product in products:
        fit = entry.products[str(product.id)]
        plan = _plan(now, fit, product.stock, product.par_level, product.sold_today, horizon_days)
        daily = _daily(entry.today, fit, horizon_days)
        out.append(
            ProductForecastOut(
                product_id=product.id,
                model=fit.model,
                family=fit.family,
                name=product.name,
                stock=product.stock,
                par_level=product.par_level,
                daily=daily,
                days_until_stockout=plan.days_until_stockout,
                reorder_point=plan.reorder_point,
                safety_stock=plan.safety_stock,
                suggested_order_qty=plan.suggested_order_qty,
                lead_time_demand=round(plan.lead_time_demand, 2),
                history=fit.history if include_history else None,
                suggested_order_packs=_packs(plan.suggested_order_qty, packs_of.get(product.id)),
            )
        )
    out.sort(key=lambda p: (p.days_until_stockout is None, p.days_until_stockout or 0.0, p.name))
    out_items = []
    for item in items:
        fit = entry.products[str(item.id)] if item.as_product else entry.items[str(item.id)]
        plan = _plan(now, fit, item.stock, item.par_level, item.used_today, horizon_days)
        out_items.append(
            StockItemForecastOut(
                stock_item_id=item.id,
                name=item.name,
                base_unit=item.base_unit,
                model=fit.model,
                family=fit.family,
                daily=_daily(entry.today, fit, horizon_days),
                days_until_stockout=plan.days_until_stockout,
                reorder_point=plan.reorder_point,
                safety_stock=plan.safety_stock,
                suggested_order_qty=plan.suggested_order_qty,
                stock=item.stock,
                par_level=item.par_level,
                lead_time_demand=round(plan.lead_time_demand, 2),
                history=fit.history if include_history else None,
                suggested_order_packs=_packs(plan.suggested_order_qty, item.packs),
            )
        )
    out_items.sort(
        key=lambda i: (i.days_until_stockout is None, i.days_until_stockout or 0.0, i.name)
    )
    return ForecastOut(
        generated_at=dt.datetime.now(dt.UTC),
        horizon_days=horizon_days,
        business_date=now.today,
        lead_time_days=now.lead_time_days,
        service_level=now.service_level,
        fitted_at=entry.fitted_at,
        products=out,
        stock_items=out_items,
    )


def _plan(
    now: history.BarNow,
    fit: Prepared,
    stock: int,
    par_level: int,
    used_today: int,
    horizon_days: int,
) -> policy.Reorder:
    """The reorder arithmetic of a product or a stock item, from its fit and today's use."""
    return policy.reorder(
        stock,
        par_level,
        max(0.0, fit.mean_today - used_today),
        fit.ahead,
        fit.dispersion,
        now.lead_time_days,
        now.service_level,
        horizon_days,
    )


def _daily(today: dt.date, fit: Prepared, horizon_days: int) -> msgspec.Raw:
    daily = fit.daily.get(horizon_days)
    if daily is None:
        daily = fit.daily[horizon_days] = _encode_daily(today, fit, horizon_days)
    return daily


def _packs(qty: int, packs: list[tuple[str, int]] | None) -> PacksOut | None:
    found = item_history.in_packs(qty, packs or [])
    return None if found is None else PacksOut(found.pack, found.size, found.packs, found.units)


def _encode_daily(today: dt.date, fit: Prepared, horizon_days: int) -> msgspec.Raw:
    q = fit.quantiles
    return msgspec.Raw(
        msgspec.json.encode(
            [
                DailyOut(
                    today + dt.timedelta(days=i + 1),
                    float(q[0, i]),
                    float(q[1, i]),
                    float(q[2, i]),
                    round(fit.ahead[i], 3),
                )
                for i in range(horizon_days)
            ]
        )
    )


def _chart_history(series: history.Series) -> list[HistoryDayOut]:
    n = len(series.sold)
    first = max(0, n - CHART_DAYS)
    return [
        HistoryDayOut(
            series.start + dt.timedelta(days=i), int(series.sold[i]), bool(series.censored[i])
        )
        for i in range(first, n)
    ]
