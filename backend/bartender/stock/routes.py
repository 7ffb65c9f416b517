"""HTTP routes of products and stock. Thin: validate, call the service, pass JSON through."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Request, Response, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from bartender.deps import MemberDep, RuntimeDep
from bartender.live import polling
from bartender.stock import service
from bartender.stock.schemas import (
    CountIn,
    DeliveryIn,
    ProductIn,
    ProductOut,
    ProductPatch,
    SaleIn,
    VoidIn,
)

JSON = "application/json"


def _json(body: bytes, status: int = HTTP_200_OK) -> Response[bytes]:
    return Response(content=body, status_code=status, media_type=JSON)


def _created_or_replayed(result: tuple[bool, bytes]) -> Response[bytes]:
    replayed, body = result
    return _json(body, HTTP_200_OK if replayed else HTTP_201_CREATED)


class StockController(Controller):
    path = "/api/bars/{bar_id:uuid}"
    tags = ["stock"]

    @post("/products", status_code=HTTP_201_CREATED)
    async def create_product(
        self, data: JSONBody[ProductIn], member: MemberDep, rt: RuntimeDep
    ) -> ProductOut:
        async with rt.pool.acquire() as conn:
            return await service.create_product(conn, member, data)

    @patch("/products/{product_id:uuid}")
    async def patch_product(
        self,
        product_id: FromPath[uuid.UUID],
        data: JSONBody[ProductPatch],
        member: MemberDep,
        rt: RuntimeDep,
    ) -> ProductOut:
        async with rt.pool.acquire() as conn:
            return await service.patch_product(conn, member, product_id, data)

    @get("/products")
    async def products(self, member: MemberDep, rt: RuntimeDep) -> Response[bytes]:
        async with rt.pool.acquire() as conn:
            return _json(await service.list_products(conn, member))

    @get("/stock")
    async def stock(
        self,
        request: Request,
        member: MemberDep,
        rt: RuntimeDep,
        since: Annotated[int | None, QueryParameter(ge=0)] = None,
    ) -> Response[bytes]:
        status, seq, body = await polling.poll(
            rt.feed,
            rt.catalog,
            rt.modes,
            member.bar_id,
            since,
            request.headers.get("if-none-match"),
        )
        headers = {"ETag": polling.etag(seq), "Cache-Control": "no-cache"}
        return Response(content=body or b"", status_code=status, headers=headers, media_type=JSON)

    @post("/sales", status_code=HTTP_201_CREATED)
    async def sell(
        self, data: JSONBody[SaleIn], member: MemberDep, rt: RuntimeDep
    ) -> Response[bytes]:
        async with rt.pool.acquire() as conn:
            return _created_or_replayed(
                await service.sell(conn, member, data, rt.settings.sale_max_future_s)
            )

    @get("/sales")
    async def sales(
        self,
        member: MemberDep,
        rt: RuntimeDep,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        before: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> Response[bytes]:
        async with rt.pool.acquire() as conn:
            return _json(await service.list_sales(conn, member, limit, before))

    @post("/sales/{sale_id:uuid}/void", status_code=HTTP_200_OK)
    async def void(
        self,
        sale_id: FromPath[uuid.UUID],
        data: JSONBody[VoidIn],
        member: MemberDep,
        rt: RuntimeDep,
    ) -> Response[bytes]:
        async with rt.pool.acquire() as conn:
            return _json(await service.void(conn, member, sale_id, data.reason))

    @post("/deliveries", status_code=HTTP_201_CREATED)
    async def deliver(
        self, data: JSONBody[DeliveryIn], member: MemberDep, rt: RuntimeDep
    ) -> Response[bytes]:
        async with rt.pool.acquire() as conn:
            return _created_or_replayed(await service.deliver(conn, member, data))

    @post("/stock-counts", status_code=HTTP_201_CREATED)
    async def count(
        self, data: JSONBody[CountIn], member: MemberDep, rt: RuntimeDep
    ) -> Response[bytes]:
        async with rt.pool.acquire() as conn:
            return _created_or_replayed(await service.count(conn, member, data))

    @get("/movements")
    async def movements(
        self,
        member: MemberDep,
        rt: RuntimeDep,
        after_seq: Annotated[int, QueryParameter(ge=0)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
        product_id: FromQuery[uuid.UUID | None] = None,
    ) -> Response[bytes]:
        async with rt.pool.acquire() as conn:
            return _json(await service.movements(conn, member, after_seq, limit, product_id))

    @get("/stats/today")
    async def stats_today(self, member: MemberDep, rt: RuntimeDep) -> Response[bytes]:
        async with rt.pool.acquire() as conn:
            return _json(await service.stats_today(conn, member))
