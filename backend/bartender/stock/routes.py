"""HTTP routes of products and stock. Thin: validate, call the service, pass JSON through.

The stock functions build their bodies in SQL; handlers return them as `msgspec.Raw` inside a
`Response` typed with the Struct that documents the shape in /schema (stock/schemas.py).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Request, Response, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from bartender.deps import ConnDep, ManagerDep, MemberDep, RuntimeDep
from bartender.live import polling
from bartender.sql_body import created_or_replayed, sql_body
from bartender.stock import service
from bartender.stock.responses import (
    CountOut,
    DeliveryOut,
    MovementsOut,
    SaleOut,
    SalesPage,
    StatsToday,
    StockPoll,
    VoidedSaleOut,
)
from bartender.stock.schemas import (
    CountIn,
    DeliveryIn,
    ProductIn,
    ProductOut,
    ProductPatch,
    ProductsOut,
    SaleIn,
    VoidIn,
)


class StockController(Controller):
    path = "/api/bars/{bar_id:uuid}"
    tags = ["stock"]

    @post("/products", status_code=HTTP_201_CREATED)
    async def create_product(
        self, data: JSONBody[ProductIn], manager: ManagerDep, conn: ConnDep
    ) -> ProductOut:
        return await service.create_product(conn, manager, data)

    @patch("/products/{product_id:uuid}")
    async def patch_product(
        self,
        product_id: FromPath[uuid.UUID],
        data: JSONBody[ProductPatch],
        manager: ManagerDep,
        conn: ConnDep,
    ) -> ProductOut:
        return await service.patch_product(conn, manager, product_id, data)

    @get("/products")
    async def products(self, member: MemberDep, conn: ConnDep) -> Response[ProductsOut]:
        return sql_body(await service.list_products(conn, member))

    @get("/stock")
    async def stock(
        self,
        request: Request,
        member: MemberDep,
        rt: RuntimeDep,
        since: Annotated[int | None, QueryParameter(ge=0)] = None,
    ) -> Response[StockPoll]:
        # no ConnDep: an unchanged poll must not touch PostgreSQL (polling reads the feed)
        status, seq, body = await polling.poll(
            rt.feed,
            rt.catalog,
            rt.modes,
            member.bar_id,
            since,
            request.headers.get("if-none-match"),
        )
        headers = {"ETag": polling.etag(seq), "Cache-Control": "no-cache"}
        return sql_body(body or b"", status, headers=headers)

    @post("/sales", status_code=HTTP_201_CREATED)
    async def sell(
        self, data: JSONBody[SaleIn], member: MemberDep, conn: ConnDep, rt: RuntimeDep
    ) -> Response[SaleOut]:
        return created_or_replayed(
            await service.sell(conn, member, data, rt.settings.sale_max_future_s)
        )

    @get("/sales")
    async def sales(
        self,
        member: MemberDep,
        conn: ConnDep,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        before: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> Response[SalesPage]:
        return sql_body(await service.list_sales(conn, member, limit, before))

    @post("/sales/{sale_id:uuid}/void", status_code=HTTP_200_OK)
    async def void(
        self,
        sale_id: FromPath[uuid.UUID],
        data: JSONBody[VoidIn],
        manager: ManagerDep,
        conn: ConnDep,
    ) -> Response[VoidedSaleOut]:
        return sql_body(await service.void(conn, manager, sale_id, data.reason))

    @post("/deliveries", status_code=HTTP_201_CREATED)
    async def deliver(
        self, data: JSONBody[DeliveryIn], manager: ManagerDep, conn: ConnDep
    ) -> Response[DeliveryOut]:
        return created_or_replayed(await service.deliver(conn, manager, data))

    @post("/stock-counts", status_code=HTTP_201_CREATED)
    async def count(
        self, data: JSONBody[CountIn], manager: ManagerDep, conn: ConnDep
    ) -> Response[CountOut]:
        return created_or_replayed(await service.count(conn, manager, data))

    @get("/movements")
    async def movements(
        self,
        member: MemberDep,
        conn: ConnDep,
        after_seq: Annotated[int, QueryParameter(ge=0)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
        product_id: FromQuery[uuid.UUID | None] = None,
    ) -> Response[MovementsOut]:
        return sql_body(await service.movements(conn, member, after_seq, limit, product_id))

    @get("/stats/today")
    async def stats_today(self, member: MemberDep, conn: ConnDep) -> Response[StatsToday]:
        return sql_body(await service.stats_today(conn, member))
