"""Response shapes of the stock operations and reads (docs/protocol.md).

The stock functions build these bodies in SQL (one definition per shape, see
migrations/functions/16_views.sql) and the routes pass them through as msgspec.Raw; these
Structs are what /schema documents for them.
"""

from __future__ import annotations

import uuid

import msgspec


class StockLevel(msgspec.Struct):
    product_id: uuid.UUID
    stock: int  # the product's available quantity


class SaleLineOut(msgspec.Struct):
    product_id: uuid.UUID
    qty: int
    unit_price: int
    line_total: int
    take_away: bool = False  # issue 16 (additive)
    deposit: int = 0  # take-away: the containers' deposit charged on this line, minor units


class SaleOut(msgspec.Struct):
    id: uuid.UUID
    bar_id: uuid.UUID
    seq: int
    number: int
    total: int  # the drinks, as in v1.2; the customer pays total + deposit_total
    created_at: str
    occurred_at: str | None
    business_date: str
    seller_id: uuid.UUID | None
    items: list[SaleLineOut]
    deposit_total: int = 0  # issue 16 (additive): deposits of the take-away lines
    stock: list[StockLevel] = []  # after the sale (POST) or the void's restock


class VoidedSaleOut(SaleOut, kw_only=True):
    voided_at: str | None
    void_reason: str | None
    void_seq: int | None
    voided_by: uuid.UUID | None = None


class SalesPage(msgspec.Struct):
    sales: list[VoidedSaleOut]
    next: str | None


class DeliveredLine(msgspec.Struct, omit_defaults=True):
    qty: int  # base units
    product_id: uuid.UUID | None = None
    stock_item_id: uuid.UUID | None = None


class DeliveryOut(msgspec.Struct):
    id: uuid.UUID
    bar_id: uuid.UUID
    seq: int
    items: list[DeliveredLine]
    supplier: str | None
    reference: str | None
    created_at: str
    actor_id: uuid.UUID | None
    stock: list[StockLevel]


class CountedLine(msgspec.Struct, omit_defaults=True):
    expected: int
    counted: int
    variance: int
    variance_value: int | None
    variance_cost: int | None
    product_id: uuid.UUID | None = None
    stock_item_id: uuid.UUID | None = None


class CountOut(msgspec.Struct):
    id: uuid.UUID
    bar_id: uuid.UUID
    seq: int
    created_at: str
    reason: str | None
    actor_id: uuid.UUID | None
    lines: list[CountedLine]
    stock: list[StockLevel]


class StockPoll(msgspec.Struct, omit_defaults=True):
    """GET /stock: `changes` after `since`, or a `snapshot` of every active product."""

    bar_id: uuid.UUID
    seq: int
    mode: str
    poll_interval_ms: int
    changes: list[StockLevel] | None = None
    snapshot: list[StockLevel] | None = None


class Movement(msgspec.Struct):
    seq: int
    product_id: uuid.UUID
    delta: int
    stock_after: int
    kind: str
    ref_id: uuid.UUID
    actor_id: uuid.UUID | None
    at: str


class MovementsOut(msgspec.Struct):
    movements: list[Movement]


class TopProduct(msgspec.Struct):
    product_id: uuid.UUID
    name: str
    qty: int
    revenue: int


class LowStock(msgspec.Struct):
    product_id: uuid.UUID
    name: str
    stock: int
    low_threshold: int


class StatsToday(msgspec.Struct):
    business_date: str
    sales_count: int
    revenue: int
    top_products: list[TopProduct]
    low_stock: list[LowStock]
