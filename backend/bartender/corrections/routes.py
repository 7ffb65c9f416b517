"""HTTP routes of waste and transfers (docs/protocol.md). Thin: validate, call, pass through."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, get, post
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from bartender.corrections import service
from bartender.corrections.schemas import TransferIn, TransferOut, WasteIn, WasteList, WasteOut
from bartender.deps import ConnDep, ManagerDep, MemberDep


def _raw(body: bytes, status: int = HTTP_200_OK) -> Response[Any]:
    """A body built by SQL, sent as is (the handler's annotation documents its shape)."""
    return Response(content=msgspec.Raw(body), status_code=status, media_type="application/json")


def _created_or_replayed(result: tuple[bool, bytes]) -> Response[Any]:
    replayed, body = result
    return _raw(body, HTTP_200_OK if replayed else HTTP_201_CREATED)


class CorrectionsController(Controller):
    path = "/api/bars/{bar_id:uuid}"
    tags = ["corrections"]

    @post("/waste", status_code=HTTP_201_CREATED)
    async def record_waste(
        self, data: JSONBody[WasteIn], member: MemberDep, conn: ConnDep
    ) -> Response[WasteOut]:
        return _created_or_replayed(await service.record_waste(conn, member, data))

    @get("/waste")
    async def list_waste(
        self,
        manager: ManagerDep,
        conn: ConnDep,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> Response[WasteList]:
        return _raw(await service.list_waste(conn, manager, limit))

    @post("/transfers", status_code=HTTP_201_CREATED)
    async def transfer(
        self, data: JSONBody[TransferIn], manager: ManagerDep, conn: ConnDep
    ) -> Response[TransferOut]:
        return _created_or_replayed(await service.transfer(conn, manager, data))
