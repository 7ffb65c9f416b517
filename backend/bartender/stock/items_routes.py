"""HTTP routes of stock items, their packs, and product recipes (docs/protocol.md)."""

from __future__ import annotations

import uuid

from litestar import Controller, get, patch, post, put
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from bartender.deps import ConnDep, ManagerDep, MemberDep
from bartender.stock import items
from bartender.stock.schemas import (
    RecipeIn,
    RecipeOut,
    RecipesOut,
    StockItemIn,
    StockItemOut,
    StockItemPatch,
    StockItemsOut,
)


class StockItemsController(Controller):
    path = "/api/bars/{bar_id:uuid}"
    tags = ["stock"]

    @post("/stock-items", status_code=HTTP_201_CREATED)
    async def create_item(
        self, data: JSONBody[StockItemIn], manager: ManagerDep, conn: ConnDep
    ) -> StockItemOut:
        return await items.create_item(conn, manager, data)

    @get("/stock-items")
    async def list_items(self, member: MemberDep, conn: ConnDep) -> StockItemsOut:
        return await items.list_items(conn, member)

    @patch("/stock-items/{item_id:uuid}")
    async def patch_item(
        self,
        item_id: FromPath[uuid.UUID],
        data: JSONBody[StockItemPatch],
        manager: ManagerDep,
        conn: ConnDep,
    ) -> StockItemOut:
        return await items.patch_item(conn, manager, item_id, data)

    @put("/products/{product_id:uuid}/recipe")
    async def set_recipe(
        self,
        product_id: FromPath[uuid.UUID],
        data: JSONBody[RecipeIn],
        manager: ManagerDep,
        conn: ConnDep,
    ) -> RecipeOut:
        return await items.set_recipe(conn, manager, product_id, data)

    @get("/recipes")
    async def recipes(self, member: MemberDep, conn: ConnDep) -> RecipesOut:
        return await items.list_recipes(conn, member)
