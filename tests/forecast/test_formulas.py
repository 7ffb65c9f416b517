"""The reorder arithmetic and the quantiles on cases computed by hand (docs/forecasting.md)."""

from __future__ import annotations

import datetime as dt
import uuid

import numpy as np
import pytest

from bartender.forecast.history import build_series
from bartender.forecast.models import demand_quantiles
from bartender.forecast.policy import Reorder, days_until_stockout, reorder, service_z

FLAT_10 = np.full(60, 10.0)


def flat_10_plan(
    *,
    stock: int,
    par_level: int,
    dispersion: float,
    lead_time_days: int,
    service_level: float,
    rest_of_today: float = 0.0,
) -> Reorder:
    """`reorder` for 10 a day over the usual 14-day horizon: the cases below differ in the rest."""
    return reorder(
        stock=stock,
        par_level=par_level,
        rest_of_today=rest_of_today,
        daily_mean=FLAT_10,
        dispersion=dispersion,
        lead_time_days=lead_time_days,
        service_level=service_level,
        horizon_days=14,
    )


def test_service_z() -> None:
    assert service_z(0.95) == pytest.approx(1.6449, abs=1e-4)
    assert service_z(0.5) == pytest.approx(0.0, abs=1e-12)


def test_reorder_point_safety_stock_and_order_by_hand() -> None:
    # L = 2: mu_L = 20, sigma_L = sqrt(2 x 20) = 6.3246, z(0.95) x sigma_L = 10.40 -> SS 11
    # ROP = 20 + 11 = 31; end of today = 25 - 5 = 20 <= 31 -> order
    # T = max(par 50, 31) = 50; at arrival 20 - 20 = 0 left -> order 50
    plan = flat_10_plan(
        stock=25,
        par_level=50,
        rest_of_today=5.0,
        dispersion=2.0,
        lead_time_days=2,
        service_level=0.95,
    )
    assert (plan.safety_stock, plan.reorder_point, plan.suggested_order_qty) == (11, 31, 50)
    assert plan.lead_time_demand == 20.0
    # the stock covers tomorrow and the day after: out at the end of day 2
    assert plan.days_until_stockout == 2.0


def test_order_tops_up_what_is_left_after_the_lead_time() -> None:
    # mu_L = 30 (L = 3), Poisson: sigma_L = sqrt(30) = 5.477, z(0.9) = 1.2816 -> 7.02 -> SS 8
    # ROP = 38; stock 38 at the end of today -> order; 38 - 30 = 8 left -> 60 - 8 = 52
    plan = flat_10_plan(stock=38, par_level=60, dispersion=1.0, lead_time_days=3, service_level=0.9)
    assert (plan.safety_stock, plan.reorder_point, plan.suggested_order_qty) == (8, 38, 52)
    assert plan.days_until_stockout == 3.8


def test_no_order_above_the_reorder_point_and_never_negative() -> None:
    plan = flat_10_plan(
        stock=100, par_level=50, dispersion=2.0, lead_time_days=2, service_level=0.95
    )
    assert plan.suggested_order_qty == 0
    # a par under the reorder point: top up to the reorder point instead (T = max(par, ROP))
    plan = flat_10_plan(stock=0, par_level=5, dispersion=2.0, lead_time_days=2, service_level=0.95)
    assert plan.reorder_point == 31 and plan.suggested_order_qty == 31


def test_zero_lead_time_needs_no_safety_stock() -> None:
    plan = flat_10_plan(stock=3, par_level=24, dispersion=3.0, lead_time_days=0, service_level=0.99)
    assert (plan.safety_stock, plan.reorder_point, plan.suggested_order_qty) == (0, 0, 0)
    plan = flat_10_plan(stock=0, par_level=24, dispersion=3.0, lead_time_days=0, service_level=0.99)
    assert plan.suggested_order_qty == 24


def test_days_until_stockout() -> None:
    assert days_until_stockout(0, 0.0, FLAT_10) == 0.0
    assert days_until_stockout(4, 5.0, FLAT_10) == 0.0  # gone before tonight's close
    assert days_until_stockout(15, 0.0, FLAT_10) == 1.5
    assert days_until_stockout(1000, 0.0, FLAT_10[:14]) is None
    assert days_until_stockout(5, 0.0, np.array([0.0, 0.0, 10.0])) == 2.5


def test_quantiles_by_hand_and_monotone() -> None:
    # Poisson(2): F(0) = .135 >= .1 -> P10 = 0; F(1) = .406, F(2) = .677 -> P50 = 2;
    # F(3) = .857, F(4) = .947 -> P90 = 4
    q = demand_quantiles(np.array([2.0]), 1.0)
    assert q[:, 0].tolist() == [0.0, 2.0, 4.0]
    q = demand_quantiles(np.array([0.0, 0.3, 5.0, 40.0, 200.0]), 6.0)
    assert (q >= 0).all() and (np.diff(q, axis=0) >= 0).all()
    assert q[:, 0].tolist() == [0.0, 0.0, 0.0]
    # over-dispersion widens the band
    wide, narrow = demand_quantiles(np.array([20.0]), 6.0), demand_quantiles(np.array([20.0]), 1.0)
    assert wide[2, 0] - wide[0, 0] > narrow[2, 0] - narrow[0, 0]


def test_history_rules_zero_fill_and_censoring() -> None:
    today = dt.date(2026, 3, 10)
    start = today - dt.timedelta(days=6)
    beer, late, gone = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    day = [start + dt.timedelta(days=i) for i in range(6)]
    series = build_series(
        today,
        start,
        [beer, late, gone],
        # beer moved before the window; late was first stocked on day 4; gone long ago
        {beer: start - dt.timedelta(days=30), late: day[4], gone: start - dt.timedelta(days=9)},
        sold=[(beer, day[0], 5), (beer, day[3], 4), (late, day[4], 2)],
        # beer sold out on day 0 and was restocked on day 2: days 0 and 1 are censored;
        # gone emptied before the window and was never restocked: all censored
        empty_spells=[(beer, day[0], day[2]), (gone, start - dt.timedelta(days=2), None)],
    )
    assert series[beer].start == start
    assert series[beer].sold.tolist() == [5, 0, 0, 4, 0, 0]
    assert series[beer].censored.tolist() == [True, True, False, False, False, False]
    assert series[late].start == day[4]
    assert series[late].sold.tolist() == [2, 0]
    assert series[late].censored.tolist() == [False, False]
    assert series[gone].censored.all() and len(series[gone].sold) == 6


def test_an_empty_spell_restocked_the_same_day_censors_that_day_only() -> None:
    today = dt.date(2026, 3, 10)
    beer = uuid.uuid4()
    start = today - dt.timedelta(days=3)
    series = build_series(
        today,
        start,
        [beer],
        {beer: start},
        [],
        [(beer, start + dt.timedelta(days=1), start + dt.timedelta(days=1))],
    )
    assert series[beer].censored.tolist() == [False, True, False]
