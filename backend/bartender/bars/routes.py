"""HTTP routes of bars and staff."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from bartender.bars import service
from bartender.bars.schemas import (
    BarIn,
    BarOut,
    BarPatch,
    BarsOut,
    MemberOut,
    MembersOut,
    StaffIn,
    StaffPatch,
)
from bartender.deps import ConnDep, ManagerDep, MemberDep, OwnerDep, RuntimeDep, UserIdDep


class BarsController(Controller):
    path = "/api/bars"
    tags = ["bars"]

    @post("/", status_code=HTTP_201_CREATED)
    async def create(self, data: JSONBody[BarIn], user_id: UserIdDep, conn: ConnDep) -> BarOut:
        return await service.create_bar(conn, user_id, data)

    @get("/")
    async def list(self, user_id: UserIdDep, conn: ConnDep) -> BarsOut:
        return BarsOut(bars=await service.list_bars(conn, user_id))

    @get("/{bar_id:uuid}")
    async def read(self, member: MemberDep, conn: ConnDep) -> BarOut:
        return await service.get_bar(conn, member)

    @patch("/{bar_id:uuid}")
    async def update(self, data: JSONBody[BarPatch], owner: OwnerDep, conn: ConnDep) -> BarOut:
        return await service.patch_bar(conn, owner, data)

    @get("/{bar_id:uuid}/staff")
    async def staff(self, manager: ManagerDep, conn: ConnDep) -> MembersOut:
        return MembersOut(members=await service.list_members(conn, manager))

    @post("/{bar_id:uuid}/staff", status_code=HTTP_201_CREATED)
    async def add_staff(
        self, data: JSONBody[StaffIn], manager: ManagerDep, conn: ConnDep, rt: RuntimeDep
    ) -> MemberOut:
        return await service.add_member(conn, rt.passwords, manager, data)

    @patch("/{bar_id:uuid}/staff/{user:uuid}")
    async def set_role(
        self,
        user: FromPath[uuid.UUID],
        data: JSONBody[StaffPatch],
        manager: ManagerDep,
        conn: ConnDep,
    ) -> MemberOut:
        return await service.set_role(conn, manager, user, data.role)

    @delete("/{bar_id:uuid}/staff/{user:uuid}", status_code=HTTP_204_NO_CONTENT)
    async def remove_staff(
        self, user: FromPath[uuid.UUID], manager: ManagerDep, conn: ConnDep
    ) -> None:
        await service.remove_member(conn, manager, user)
