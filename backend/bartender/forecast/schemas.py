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


class PacksOut(msgspec.Struct):
    """A suggested order in packs: `packs` x `pack` (of `size` base units) plus `units`."""

    pack: str
    size: int
    packs: int
    units: int


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
    # addition (issue 15): the suggestion in packs of the product's own stock item
    suggested_order_packs: PacksOut | None = None


class StockItemForecastOut(msgspec.Struct, omit_defaults=True):
    """One stock item's forecast, in its base unit (demand: what its sales consumed)."""

    stock_item_id: uuid.UUID
    name: str
    base_unit: str
    model: str
    family: str
    daily: msgspec.Raw
    days_until_stockout: float | None
    reorder_point: int
    safety_stock: int
    suggested_order_qty: int
    stock: int
    par_level: int
    lead_time_demand: float
    history: msgspec.Raw | None = None
    suggested_order_packs: PacksOut | None = None


class ForecastOut(msgspec.Struct):
    generated_at: dt.datetime
    horizon_days: int
    products: list[ProductForecastOut]
    # additions: the current business day, the settings used, when the models were fitted
    business_date: dt.date
    lead_time_days: int
    service_level: float
    fitted_at: dt.datetime
    # addition (issue 15): every active stock item, soonest to run out first
    stock_items: list[StockItemForecastOut] = []
