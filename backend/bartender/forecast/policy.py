"""Reorder arithmetic: lead-time demand, safety stock, reorder point, suggested order, cover.

All of it follows from a product's daily mean demand m_1..m_H (day 1 = the business day after
today) and its dispersion phi (variance of a day's demand = phi x mean), see docs/forecasting.md:

    lead-time demand   mu_L    = m_1 + ... + m_L                  (L = bar.lead_time_days)
                       sigma_L = sqrt(phi x mu_L)                 (days independent)
    safety stock       SS      = ceil(z(service_level) x sigma_L)
    reorder point      ROP     = ceil(mu_L) + SS
    end of today       A       = max(0, stock - r_0)              (r_0 = today's expected rest)
    suggested order    Q       = ceil(T - max(0, A - mu_L)) when A <= ROP, else 0, never < 0,
                                  with T = max(par_level, ROP)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist


@dataclass(frozen=True)
class Reorder:
    safety_stock: int
    reorder_point: int
    suggested_order_qty: int
    lead_time_demand: float
    days_until_stockout: float | None


@functools.lru_cache(maxsize=256)
def service_z(service_level: float) -> float:
    """The standard normal quantile of the service level (0.95 -> 1.645)."""
    return NormalDist().inv_cdf(service_level)


def days_until_stockout(
    stock: float, rest_of_today: float, daily_mean: Sequence[float]
) -> float | None:
    """Business days after today that the stock covers (0 = it runs out today).

    Linear within a day: running out halfway through tomorrow is 0.5. None when the stock
    outlasts the horizon.
    """
    if stock <= rest_of_today + 1e-12:
        return 0.0
    remaining = stock - rest_of_today
    for day, demand in enumerate(float(d) for d in daily_mean):
        if demand >= remaining - 1e-12:
            return round(day + (remaining / demand if demand > 0 else 1.0), 2)
        remaining -= demand
    return None


def reorder(
    stock: int,
    par_level: int,
    rest_of_today: float,
    daily_mean: Sequence[float],
    dispersion: float,
    lead_time_days: int,
    service_level: float,
    horizon_days: int,
) -> Reorder:
    """Safety stock, reorder point and suggested order for one product (formulas above).

    `daily_mean` starts with the business day after today and covers at least the lead time
    (the caller forecasts 60 days ahead, the longest lead time a bar may set).
    """
    mu_l = float(sum(daily_mean[:lead_time_days]))
    sigma_l = math.sqrt(max(dispersion, 1.0) * mu_l)
    safety = max(0, math.ceil(service_z(service_level) * sigma_l - 1e-9))
    reorder_point = math.ceil(mu_l - 1e-9) + safety
    end_of_today = max(0.0, stock - rest_of_today)
    order = 0
    if end_of_today <= reorder_point:
        target = max(par_level, reorder_point)
        order = max(0, math.ceil(target - max(0.0, end_of_today - mu_l) - 1e-9))
    return Reorder(
        safety,
        reorder_point,
        order,
        mu_l,
        days_until_stockout(stock, rest_of_today, daily_mean[:horizon_days]),
    )
