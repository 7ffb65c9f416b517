"""The forecast answer: a bar's cached fits plus today's stock make the wire response.

Cheap, run on every request: days until stockout, safety stock, reorder point and the
suggested order (in packs too) from the fit and the current stock, per product and per stock
item (service.py keeps the fits; policy.py has the formulas).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

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
from bartender.forecast.worker import FitResult

if TYPE_CHECKING:
    from bartender.forecast.service import BarFit

CHART_DAYS = 56  # the tablet charts the last 8 weeks


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


def prepare(fit: FitResult, series: history.Series) -> Prepared:
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


def answer(
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
