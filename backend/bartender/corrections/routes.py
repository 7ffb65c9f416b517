"""HTTP routes of waste, transfers and returns (docs/protocol.md). Thin: validate, call the
service, pass the body built by SQL through."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from bartender.corrections import empties, service
from bartender.corrections.schemas import (
    BalancesOut,
    ContainerIn,
    ContainerOut,
    ContainersOut,
    DecisionIn,
    EmptiesRefundIn,
    EmptiesRefundOut,
    ReturnIn,
    ReturnOut,
    ReturnsOut,
    ReturnStatus,
    TransferIn,
    TransferOut,
    WasteIn,
    WasteList,
    WasteOut,
)
from bartender.deps import ConnDep, ManagerDep, MemberDep
from bartender.sql_body import created_or_replayed, sql_body


class CorrectionsController(Controller):
    path = "/api/bars/{bar_id:uuid}"
    tags = ["corrections"]

    @post("/waste", status_code=HTTP_201_CREATED)
    async def record_waste(
        self, data: JSONBody[WasteIn], member: MemberDep, conn: ConnDep
    ) -> Response[WasteOut]:
        return created_or_replayed(await service.record_waste(conn, member, data))

    @get("/waste")
    async def list_waste(
        self,
        manager: ManagerDep,
        conn: ConnDep,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> Response[WasteList]:
        return sql_body(await service.list_waste(conn, manager, limit))

    @post("/transfers", status_code=HTTP_201_CREATED)
    async def transfer(
        self, data: JSONBody[TransferIn], manager: ManagerDep, conn: ConnDep
    ) -> Response[TransferOut]:
        return created_or_replayed(await service.transfer(conn, manager, data))

    @post("/sales/{sale_id:uuid}/returns", status_code=HTTP_201_CREATED)
    async def request_return(
        self,
        sale_id: FromPath[uuid.UUID],
        data: JSONBody[ReturnIn],
        member: MemberDep,
        conn: ConnDep,
    ) -> Response[ReturnOut]:
        return created_or_replayed(await service.request_return(conn, member, sale_id, data))

    @get("/returns")
    async def list_returns(
        self,
        manager: ManagerDep,
        conn: ConnDep,
        status: FromQuery[ReturnStatus | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> Response[ReturnsOut]:
        return sql_body(await service.list_returns(conn, manager, status, limit))

    @post("/returns/{return_id:uuid}/approve", status_code=HTTP_200_OK)
    async def approve_return(
        self,
        return_id: FromPath[uuid.UUID],
        data: JSONBody[DecisionIn],
        manager: ManagerDep,
        conn: ConnDep,
    ) -> Response[ReturnOut]:
        return sql_body(await service.decide_return(conn, manager, return_id, True, data.note))

    @post("/returns/{return_id:uuid}/reject", status_code=HTTP_200_OK)
    async def reject_return(
        self,
        return_id: FromPath[uuid.UUID],
        data: JSONBody[DecisionIn],
        manager: ManagerDep,
        conn: ConnDep,
    ) -> Response[ReturnOut]:
        return sql_body(await service.decide_return(conn, manager, return_id, False, data.note))

    @post("/containers", status_code=HTTP_201_CREATED)
    async def create_container(
        self, data: JSONBody[ContainerIn], manager: ManagerDep, conn: ConnDep
    ) -> Response[ContainerOut]:
        return sql_body(await empties.create_container(conn, manager, data), HTTP_201_CREATED)

    @get("/containers")
    async def list_containers(self, member: MemberDep, conn: ConnDep) -> Response[ContainersOut]:
        return sql_body(await empties.list_containers(conn, member))

    @post("/empties/refunds", status_code=HTTP_201_CREATED)
    async def refund_empties(
        self, data: JSONBody[EmptiesRefundIn], member: MemberDep, conn: ConnDep
    ) -> Response[EmptiesRefundOut]:
        return created_or_replayed(await empties.refund(conn, member, data))

    @get("/empties/balance")
    async def empties_balance(self, manager: ManagerDep, conn: ConnDep) -> Response[BalancesOut]:
        return sql_body(await empties.balance(conn, manager))
