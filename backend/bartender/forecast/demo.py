"""The demo bar's past: 180 business days of realistic sales and deliveries in its ledger.

Each drink gets a demand profile from its category and par level (beers sell fast, juices and
sodas steadily, spirits by the glass now and then), the same generator as the backtest draws
its days, the bar's old min/max habit restocks it (with the odd late truck, so some days are
sold out), and `backfill` writes it all as ledger-consistent sales and deliveries ending
yesterday. The forecast screen then has eight weeks to chart and a history to fit; the last
truck of the history is late (today's opening delivery), so some shelves run low.
"""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg
import numpy as np

from bartender.forecast.backfill import ProductPast, backfill
from bartender.forecast.synthetic import (
    SyntheticProduct,
    draw_demand,
    expected_demand,
    profile_for,
    simulate_stock,
)

DEMO_DAYS = 180
PRODUCTS = """
SELECT id, name, category, price, par_level FROM products WHERE bar_id = $1 ORDER BY name
"""
TODAY = "SELECT bt_business_date(now(), timezone, day_starts_at) FROM bars WHERE id = $1"


async def seed_history(
    conn: asyncpg.Connection,
    bar_id: uuid.UUID,
    actor_id: uuid.UUID,
    days: int = DEMO_DAYS,
    seed: int = 2026,
) -> None:
    """Fill the (new, empty-ledger) bar with `days` business days of history up to yesterday."""
    today: dt.date = await conn.fetchval(TODAY, bar_id)
    dates = [today - dt.timedelta(days=days - i) for i in range(days)]
    rng = np.random.default_rng(seed)
    pasts = []
    for row in await conn.fetch(PRODUCTS, bar_id):
        profile = profile_for(row["name"], row["category"], int(row["price"]), row["par_level"])
        demand = draw_demand(profile, expected_demand(profile, dates, rng), rng)
        lead_time = 2
        product = SyntheticProduct(
            profile=profile,
            start=0,
            demand=demand,
            sales=np.zeros(days, dtype=np.int64),
            opening=np.zeros(days, dtype=np.int64),
            censored=np.zeros(days, dtype=bool),
            arrivals=np.zeros(days, dtype=np.int64),
            low_threshold=max(2, round(profile.base * (lead_time + 0.5))),
            par_level=max(6, round(profile.base * (lead_time + 7))),
        )
        # the last truck is late: it is the demo's opening delivery of today, so the shelves
        # run low at the end of the history and the forecast screen has orders to suggest
        simulate_stock(product, lead_time, rng, trucks_until=days - 3)
        # the opening stock arrives on the first day (the simulation starts at par)
        product.arrivals[0] += product.par_level
        pasts.append(ProductPast(row["id"], product.arrivals, product.sales))
    await backfill(conn, bar_id, actor_id, dates, pasts, seed=seed, supplier="Solibra")
