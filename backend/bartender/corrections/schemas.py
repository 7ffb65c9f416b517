"""Wire schemas of waste and transfers (docs/protocol.md, "Waste" and "Transfers")."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import msgspec

from bartender.accounts.schemas import Input
from bartender.stock.schemas import ItemQuantity, Note

WasteKind = Literal["breakage", "spillage", "expired", "offered", "staff_drink"]
LineQty = Annotated[int, msgspec.Meta(ge=1, le=100_000)]


class WasteLine(ItemQuantity, omit_defaults=True):
    """A product (what one sold unit takes, times `qty`) or a stock item (base units or packs)."""

    qty: LineQty | None = None


class WasteIn(Input, omit_defaults=True):
    id: uuid.UUID
    kind: WasteKind
    items: Annotated[list[WasteLine], msgspec.Meta(min_length=1, max_length=50)]
    reason: Note | None = None


class WasteLineOut(msgspec.Struct, omit_defaults=True):
    qty: int
    value_cost: int | None
    value_price: int | None
    product_id: str | None = None
    stock_item_id: str | None = None


class StockChange(msgspec.Struct):
    product_id: str
    stock: int


class WasteOut(msgspec.Struct):
    id: str
    bar_id: str
    seq: int
    kind: WasteKind
    reason: str | None
    items: list[WasteLineOut]
    value_cost: int | None  # sum over lines with a known cost
    value_price: int | None
    created_at: str
    actor_id: str
    stock: list[StockChange]


class TransferLine(ItemQuantity, omit_defaults=True):
    """What leaves the source bar (`product_id` | `stock_item_id`, quantity as in a delivery)
    and what it becomes in the destination bar (`to_product_id` | `to_stock_item_id`)."""

    to_product_id: uuid.UUID | None = None
    to_stock_item_id: uuid.UUID | None = None
    qty: LineQty | None = None


class TransferIn(Input, omit_defaults=True):
    id: uuid.UUID
    to_bar_id: uuid.UUID
    items: Annotated[list[TransferLine], msgspec.Meta(min_length=1, max_length=50)]
    note: Note | None = None


class TransferLineOut(msgspec.Struct):
    stock_item_id: str
    to_stock_item_id: str
    qty: int


class TransferOut(msgspec.Struct):
    id: str
    from_bar_id: str
    to_bar_id: str
    seq: int
    to_seq: int
    items: list[TransferLineOut]
    note: str | None
    created_at: str
    actor_id: str
    stock: list[StockChange]
    to_stock: list[StockChange]


class WasteRecord(msgspec.Struct):
    id: str
    seq: int
    kind: WasteKind
    reason: str | None
    value_cost: int | None
    value_price: int | None
    created_at: str
    actor_id: str | None


class WasteList(msgspec.Struct):
    waste: list[WasteRecord]


Disposition = Literal["restock", "waste"]
ReturnStatus = Literal["pending", "approved", "rejected"]


class ReturnLine(Input):
    product_id: uuid.UUID
    qty: Annotated[int, msgspec.Meta(ge=1, le=999)]
    disposition: Disposition


class ReturnIn(Input):
    id: uuid.UUID
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    items: Annotated[list[ReturnLine], msgspec.Meta(min_length=1, max_length=50)]


class DecisionIn(Input, omit_defaults=True):
    note: Note | None = None


class ReturnLineOut(msgspec.Struct):
    product_id: str
    qty: int
    disposition: Disposition
    unit_price: int
    refund: int  # unit_price * qty


class ReturnOut(msgspec.Struct):
    id: str
    bar_id: str
    sale_id: str
    status: ReturnStatus
    reason: str
    items: list[ReturnLineOut]
    refund: int  # in the bar's minor unit
    currency: str
    requested_by: str | None
    requested_at: str
    decided_by: str | None
    decided_at: str | None
    decision_note: str | None
    seq: int | None  # the stock transaction of an approved return that restocked
    stock: list[StockChange]


class ReturnsOut(msgspec.Struct):
    returns: list[ReturnOut]


class ContainerContent(Input):
    stock_item_id: uuid.UUID
    qty: Annotated[int, msgspec.Meta(ge=1, le=1000)]  # how many of the item one container holds


class ContainerIn(Input, omit_defaults=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    deposit: Annotated[int, msgspec.Meta(ge=0, le=1_000_000_000)]  # bar's minor unit
    contents: Annotated[list[ContainerContent], msgspec.Meta(max_length=50)] = []


class ContainerOut(msgspec.Struct):
    id: str
    name: str
    deposit: int
    empties_item_id: str  # the stock item of this container's empties
    empties: int
    contents: list[dict[str, object]]


class ContainersOut(msgspec.Struct):
    containers: list[ContainerOut]


class EmptiesLine(Input):
    container_id: uuid.UUID
    qty: Annotated[int, msgspec.Meta(ge=1, le=10_000)]


class EmptiesRefundIn(Input):
    id: uuid.UUID
    items: Annotated[list[EmptiesLine], msgspec.Meta(min_length=1, max_length=20)]


class EmptiesRefundOut(msgspec.Struct):
    id: str
    bar_id: str
    seq: int
    items: list[dict[str, object]]
    refund: int
    currency: str
    created_at: str
    actor_id: str
    empties: list[dict[str, object]]
    stock: list[StockChange]


class SupplierBalance(msgspec.Struct):
    supplier: str
    container_id: str
    name: str
    full_in: int
    empties_out: int
    balance: int  # the supplier's containers still at the bar
    value: int  # balance * deposit: what the bar owes the depot (negative: the depot owes)


class BalancesOut(msgspec.Struct):
    suppliers: list[SupplierBalance]
