"""Wire schemas for products and stock operations (contract: Products and stock)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec

from bartender.accounts.schemas import Input, Name

Money = Annotated[int, msgspec.Meta(ge=0, le=10**12)]
Units = Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]
Category = Annotated[str, msgspec.Meta(max_length=100)]
Note = Annotated[str, msgspec.Meta(max_length=500)]
AwareTime = Annotated[dt.datetime, msgspec.Meta(tz=True)]


class ProductIn(Input):
    name: Name
    category: Category
    price: Money
    low_threshold: Units
    par_level: Units
    cost: Money | None = None


class ProductPatch(Input, omit_defaults=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    category: Category | msgspec.UnsetType = msgspec.UNSET
    price: Money | msgspec.UnsetType = msgspec.UNSET
    low_threshold: Units | msgspec.UnsetType = msgspec.UNSET
    par_level: Units | msgspec.UnsetType = msgspec.UNSET
    cost: Money | None | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class ProductOut(msgspec.Struct):
    id: str
    name: str
    category: str
    price: int
    low_threshold: int
    par_level: int
    cost: int | None
    stock: int
    active: bool


class ProductsOut(msgspec.Struct):
    seq: int
    products: list[ProductOut]


class SaleLine(Input):
    product_id: uuid.UUID
    qty: Annotated[int, msgspec.Meta(ge=1, le=999)]


class SaleIn(Input, omit_defaults=True):
    id: uuid.UUID
    items: Annotated[list[SaleLine], msgspec.Meta(min_length=1, max_length=50)]
    occurred_at: AwareTime | None = None


class DeliveryLine(Input):
    product_id: uuid.UUID
    qty: Annotated[int, msgspec.Meta(ge=1, le=100_000)]


class DeliveryIn(Input, omit_defaults=True):
    id: uuid.UUID
    items: Annotated[list[DeliveryLine], msgspec.Meta(min_length=1, max_length=50)]
    supplier: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    reference: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class VoidIn(Input):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class CountLine(Input):
    product_id: uuid.UUID
    counted: Annotated[int, msgspec.Meta(ge=0, le=100_000)]


class CountIn(Input, omit_defaults=True):
    id: uuid.UUID
    counts: Annotated[list[CountLine], msgspec.Meta(min_length=1, max_length=500)]
    reason: Note | None = None
