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


class Component(msgspec.Struct):
    """One sold unit of a product takes `qty` base units of a stock item."""

    stock_item_id: uuid.UUID
    qty: Annotated[int, msgspec.Meta(ge=1, le=100_000)]


class ProductOut(msgspec.Struct):
    id: str
    name: str
    category: str
    price: int
    low_threshold: int
    par_level: int
    cost: int | None
    stock: int  # available quantity: min over components of floor(item stock / qty)
    active: bool


class ProductsOut(msgspec.Struct):
    seq: int
    products: list[ProductOut]


class SaleLine(Input, omit_defaults=True):
    product_id: uuid.UUID
    qty: Annotated[int, msgspec.Meta(ge=1, le=999)]
    # issue 16 (additive): the bottle leaves with the customer, its deposit is charged; a v1.2
    # client omits it (consumed on the premises: the empty comes back to the bar)
    take_away: bool = False


class SaleIn(Input, omit_defaults=True):
    id: uuid.UUID
    items: Annotated[list[SaleLine], msgspec.Meta(min_length=1, max_length=50)]
    occurred_at: AwareTime | None = None


PackName = Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
PackCount = Annotated[int, msgspec.Meta(ge=0, le=100_000)]
Tenths = Annotated[int, msgspec.Meta(ge=0, le=9)]


class ItemQuantity(Input, omit_defaults=True):
    """What a delivery or count line names (`product_id` of a product that is its own stock
    item, or `stock_item_id`) and how much, as a plain quantity in base units or as `packs`
    of `pack` + `units` + `tenths` of a pack ("3 casiers + 5", "2 bouteilles + 3/10")."""

    product_id: uuid.UUID | None = None
    stock_item_id: uuid.UUID | None = None
    pack: PackName | None = None
    packs: PackCount | None = None
    units: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] | None = None
    tenths: Tenths | None = None


class DeliveryLine(ItemQuantity, omit_defaults=True):
    qty: Annotated[int, msgspec.Meta(ge=1, le=100_000)] | None = None


class DeliveryContainers(Input, omit_defaults=True):
    """Issue 16 (consignes): full containers received and empties handed back, per container."""

    container_id: uuid.UUID
    full_in: Annotated[int, msgspec.Meta(ge=0, le=100_000)] = 0
    empties_out: Annotated[int, msgspec.Meta(ge=0, le=100_000)] = 0


class DeliveryIn(Input, omit_defaults=True):
    id: uuid.UUID
    items: Annotated[list[DeliveryLine], msgspec.Meta(min_length=1, max_length=50)]
    supplier: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    reference: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    containers: Annotated[list[DeliveryContainers], msgspec.Meta(max_length=20)] | None = None


class VoidIn(Input):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class CountLine(ItemQuantity, omit_defaults=True):
    counted: Annotated[int, msgspec.Meta(ge=0, le=100_000)] | None = None


class CountIn(Input, omit_defaults=True):
    id: uuid.UUID
    counts: Annotated[list[CountLine], msgspec.Meta(min_length=1, max_length=500)]
    reason: Note | None = None


class PackIn(Input):
    name: PackName
    size: Annotated[int, msgspec.Meta(ge=1, le=100_000)]


BaseUnit = Annotated[str, msgspec.Meta(min_length=1, max_length=30)]
Packs = Annotated[list[PackIn], msgspec.Meta(max_length=10)]


class LevelInPacks(Input, omit_defaults=True):
    """A threshold or par given in packs of the item ("5 casiers + 6"): stored in base units."""

    pack: PackName
    packs: Annotated[int, msgspec.Meta(ge=0, le=100_000)]
    units: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 0


# base units, or (additive, issue 15) packs of the item, converted with its packs
Level = Units | LevelInPacks


class StockItemIn(Input):
    name: Name
    base_unit: BaseUnit = "unit"
    low_threshold: Level = 0
    par_level: Level = 0
    packs: Packs = []


class StockItemPatch(Input, omit_defaults=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    base_unit: BaseUnit | msgspec.UnsetType = msgspec.UNSET
    low_threshold: Level | msgspec.UnsetType = msgspec.UNSET
    par_level: Level | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET
    packs: Packs | msgspec.UnsetType = msgspec.UNSET  # replaces every pack


class PackOut(msgspec.Struct):
    name: str
    size: int


class StockItemOut(msgspec.Struct):
    id: str
    name: str
    base_unit: str
    stock: int  # base units
    low_threshold: int
    par_level: int
    active: bool
    packs: list[PackOut]


class StockItemsOut(msgspec.Struct):
    seq: int
    stock_items: list[StockItemOut]


class ComponentIn(Input):
    stock_item_id: uuid.UUID
    qty: Annotated[int, msgspec.Meta(ge=1, le=100_000)]


class RecipeOut(msgspec.Struct):
    product_id: uuid.UUID
    stock: int  # the product's available quantity with this recipe
    components: list[Component]


class RecipesOut(msgspec.Struct):
    recipes: list[RecipeOut]


class RecipeIn(Input):
    components: Annotated[list[ComponentIn], msgspec.Meta(min_length=1, max_length=20)]
