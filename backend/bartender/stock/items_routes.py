"""HTTP routes of stock items, their packs, and product recipes (docs/protocol.md)."""

from __future__ import annotations

import uuid

from litestar import Controller, get, patch, post, put
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from bartender.deps import MemberDep, RuntimeDep
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
        self, data: JSONBody[StockItemIn], member: MemberDep, rt: RuntimeDep
    ) -> StockItemOut:
        async with rt.pool.acquire() as conn:
            return await items.create_item(conn, member, data)

    @get("/stock-items")
    async def list_items(self, member: MemberDep, rt: RuntimeDep) -> StockItemsOut:
        async with rt.pool.acquire() as conn:
            return await items.list_items(conn, member)

    @patch("/stock-items/{item_id:uuid}")
    async def patch_item(
        self,
        item_id: FromPath[uuid.UUID],
        data: JSONBody[StockItemPatch],
        member: MemberDep,
        rt: RuntimeDep,
    ) -> StockItemOut:
        async with rt.pool.acquire() as conn:
            return await items.patch_item(conn, member, item_id, data)

    @put("/products/{product_id:uuid}/recipe")
    async def set_recipe(
        self,
        product_id: FromPath[uuid.UUID],
        data: JSONBody[RecipeIn],
        member: MemberDep,
        rt: RuntimeDep,
    ) -> RecipeOut:
        async with rt.pool.acquire() as conn:
            return await items.set_recipe(conn, member, product_id, data)

    @get("/recipes")
    async def recipes(self, member: MemberDep, rt: RuntimeDep) -> RecipesOut:
        async with rt.pool.acquire() as conn:
            return await items.list_recipes(conn, member)
