"""Helpers: give a test bar a past (through the ledger backfill) and read its business day."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg
import numpy as np

from bartender.forecast.backfill import ProductPast, backfill
from tests.support import Bar, RunningServer

TODAY = "SELECT bt_business_date(now(), timezone, day_starts_at) FROM bars WHERE id = $1"


async def business_today(server: RunningServer, bar: Bar) -> dt.date:
    conn = await asyncpg.connect(server.rt.settings.database_url)
    try:
        return await conn.fetchval(TODAY, uuid.UUID(bar.id))  # type: ignore[no-any-return]
    finally:
        await conn.close()


async def give_past(
    server: RunningServer,
    bar: Bar,
    past: dict[str, tuple[list[int] | np.ndarray, list[int] | np.ndarray]],
) -> list[dt.date]:
    """Backfill `past` = {product_id: (arrivals per day, sales per day)} ending yesterday."""
    today = await business_today(server, bar)
    days = len(next(iter(past.values()))[0])
    dates = [today - dt.timedelta(days=days - i) for i in range(days)]
    conn = await asyncpg.connect(server.rt.settings.database_url)
    try:
        async with conn.transaction():
            await backfill(
                conn,
                uuid.UUID(bar.id),
                uuid.UUID(bar.owner.id),
                dates,
                [
                    ProductPast(uuid.UUID(pid), np.asarray(a), np.asarray(s))
                    for pid, (a, s) in past.items()
                ],
                seed=7,
            )
    finally:
        await conn.close()
    return dates


def weekly_demand(days: int, seed: int, level: float = 10.0) -> np.ndarray:
    """Poisson demand with a bar's week (busy Friday/Saturday), ending on any weekday."""
    shape = np.array([0.6, 0.7, 0.8, 1.0, 1.6, 1.9, 0.9])
    rng = np.random.default_rng(seed)
    return rng.poisson(level * shape[np.arange(days) % 7]).astype(np.int64)


def restocked(sales: np.ndarray, buffer: int = 50) -> np.ndarray:
    """Arrivals that never let the shelf empty: `buffer` on day one, then each day's sales."""
    arrivals = np.asarray(sales).copy()
    arrivals[0] += buffer
    return arrivals
