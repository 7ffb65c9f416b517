"""Wire schemas of the forecast (contract: Forecasts; extra fields are additions)."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec


class DailyOut(msgspec.Struct):
    date: dt.date
    p10: float
    p50: float
    p90: float
    # addition: the expected demand (the model's point forecast) the stock arithmetic uses
    mean: float


class HistoryDayOut(msgspec.Struct):
    date: dt.date
    sold: int
    # the shelf was empty that day: `sold` understates demand
    censored: bool


class ProductForecastOut(msgspec.Struct, omit_defaults=True):
    """`daily` and `history` arrive pre-encoded (lists of DailyOut / HistoryDayOut)."""

    product_id: uuid.UUID
    model: str
    daily: msgspec.Raw
    days_until_stockout: float | None
    reorder_point: int
    safety_stock: int
    suggested_order_qty: int
    # additions for the tablet
    name: str
    family: str
    stock: int
    par_level: int
    lead_time_demand: float
    history: msgspec.Raw | None = None


class ForecastOut(msgspec.Struct):
    generated_at: dt.datetime
    horizon_days: int
    products: list[ProductForecastOut]
    # additions: the current business day, the settings used, when the models were fitted
    business_date: dt.date
    lead_time_days: int
    service_level: float
    fitted_at: dt.datetime
